"""CIFAR-10 decoded once into a cached uint8 ``.pt`` file in the data root.

Sources, in the order they are tried:

1. the cache ``<root>/cifar10/cifar10_uint8.pt`` (written by the steps below);
2. torchvision's ``<root>/cifar-10-batches-py`` (the original pixels);
3. JPEG image folders ``train|test/CLASS/*.jpg``, as a tree or a ``.tar.gz``, under
   ``<root>/cifar10`` (re-encoded pixels: airbench94 reaches about 90.7% on them
   against 94.0% on the original, so compare only with references on the same data).

The cache is a dict of tensors and strings, read back with ``weights_only=True``.
"""
from __future__ import annotations

import io
import pickle
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

import torch

from ..paths import data_root
from .common import (
    DataNotFoundError,
    LabelledImages,
    announce_standin,
    check_online,
    class_pattern_standin,
    missing,
    select_classes,
    use_standin,
)

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
ALIASES = {"plane": "airplane", "car": "automobile"}
CACHE_NAME = "cifar10_uint8.pt"
FORMAT = "nblib.cifar10/1"
FIX = (
    "`python -m nblib.data prepare cifar10 --from PATH` (PATH: a cifar-10-batches-py folder, "
    "cifar-10-python.tar.gz, or train|test/CLASS/*.jpg folders or their .tar.gz), "
    "or `python -m nblib.data prepare cifar10 --download` when online"
)


def cache_path(root: Path | None = None) -> Path:
    return (root or data_root()) / "cifar10" / CACHE_NAME


def _decode_jpegs(blobs: list[tuple[str, bytes]]) -> torch.Tensor:
    """JPEG bytes -> (N, 3, H, W) uint8 (Pillow; torchvision's codecs are deprecated)."""
    import numpy as np
    from PIL import Image

    from PIL import UnidentifiedImageError
    from tqdm.auto import tqdm

    arrays = []
    for name, blob in tqdm(blobs, desc="decoding JPEGs", disable=len(blobs) < 1000, leave=False):
        try:
            arrays.append(np.asarray(Image.open(io.BytesIO(blob)).convert("RGB")))  # (H, W, 3)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ValueError(f"cannot decode image {name} ({exc.__class__.__name__}); "
                             "remove or replace it and prepare again") from None
    if len({a.shape for a in arrays}) > 1:
        raise ValueError(f"the JPEGs have different sizes ({sorted({a.shape for a in arrays})[:3]}); "
                         "CIFAR-10 images are all 32x32")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)


def _from_named_jpegs(items: list[tuple[str, bytes]]) -> dict:
    """items: (relative path 'split/CLASS/name.jpg', bytes) -> cache dict."""
    out = {}
    for split in ("train", "test"):
        chosen = sorted(
            (p, b) for p, b in items if p.split("/")[-3] == split and p.split("/")[-2] in CLASSES
        )
        if not chosen:
            raise DataNotFoundError(f"no {split}/CLASS/*.jpg images found (CLASS one of {', '.join(CLASSES)}); "
                                    "pass a folder or archive with that layout")
        out[f"{split}_images"] = _decode_jpegs(chosen)
        out[f"{split}_labels"] = torch.tensor([CLASSES.index(p.split("/")[-2]) for p, _ in chosen])
    return out


def _read_tar_jpegs(path: Path) -> list[tuple[str, bytes]]:
    items = []
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            if member.isfile() and member.name.lower().endswith((".jpg", ".jpeg")):
                items.append((member.name, tf.extractfile(member).read()))
    return items


def _read_tree_jpegs(path: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(path).as_posix(), p.read_bytes()) for p in path.rglob("*.jp*g")]


def _from_batches_py(folder: Path) -> dict:
    from torchvision.datasets import CIFAR10

    out = {}
    for split in ("train", "test"):
        ds = CIFAR10(str(folder.parent), train=split == "train", download=False)
        out[f"{split}_images"] = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, 3, 32, 32)
        out[f"{split}_labels"] = torch.tensor(ds.targets, dtype=torch.long)
    return out


def _decode_source(src: Path) -> tuple[dict, str]:
    """Decode ``src`` into the cache's tensors; (tensors, kind of pixels)."""
    if not src.exists():
        raise DataNotFoundError(f"{src} does not exist; pass {FIX.split(' (')[0]}")
    if src.is_file() and src.name == "cifar-10-python.tar.gz":
        with tempfile.TemporaryDirectory() as tmp:  # never extracted beside the source
            with tarfile.open(src) as tf:
                tf.extractall(tmp, filter="data")
            return _from_batches_py(Path(tmp) / "cifar-10-batches-py"), "original pixels"
    if src.is_file() and tarfile.is_tarfile(src):
        return _from_named_jpegs(_read_tar_jpegs(src)), "JPEG re-encoded pixels"
    if (src / "cifar-10-batches-py").is_dir() or src.name == "cifar-10-batches-py":
        folder = src if src.name == "cifar-10-batches-py" else src / "cifar-10-batches-py"
        return _from_batches_py(folder), "original pixels"
    if src.is_dir():
        return _from_named_jpegs(_read_tree_jpegs(src)), "JPEG re-encoded pixels"
    raise DataNotFoundError(f"{src} is neither a folder nor a readable tarball (corrupt archive?); {FIX}")


def build_cache(src: Path, root: Path | None = None) -> Path:
    """Decode ``src`` (any supported layout) once and write the uint8 cache.

    The cache is written to a staging folder and renamed into place: a rejected source
    (corrupt archive, undecodable JPEG, interrupt) leaves nothing in the data root.
    """
    from ..cli import StagedDir

    src = Path(src).expanduser().resolve()
    t0 = time.perf_counter()
    try:
        tensors, kind = _decode_source(src)
    except (tarfile.TarError, EOFError, zlib.error, OSError, RuntimeError, pickle.UnpicklingError) as exc:
        if isinstance(exc, DataNotFoundError):
            raise
        raise ValueError(f"{src} is corrupt or truncated ({exc.__class__.__name__}: {' '.join(str(exc).split())[:100]}); "
                         "copy the original archive again") from None
    tensors.update(classes=list(CLASSES), source=f"CIFAR-10 ({kind}) decoded from {src}", format=FORMAT)
    dest = cache_path(root)
    with StagedDir(dest.parent, flag="data root") as stage:
        torch.save(tensors, stage.path / dest.name)
        stage.commit()
    print(f"cifar10: decoded {len(tensors['train_labels']):,} train + {len(tensors['test_labels']):,} test "
          f"images from {src} in {time.perf_counter() - t0:.1f} s -> {dest}")
    return dest


def _local_sources(root: Path) -> list[Path]:
    return [
        root / "cifar-10-batches-py",
        root / "cifar10" / "cifar-10-batches-py",
        root / "cifar10" / "cifar10-jpg.tar.gz",
        root / "cifar10" / "train",
    ]


_MEMO: dict = {}


def _read_cache(path: Path) -> dict:
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _MEMO:
        data = torch.load(path, map_location="cpu", weights_only=True)
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} is not an nblib CIFAR-10 cache; delete it and run {FIX}")
        _MEMO.clear()
        _MEMO[key] = data
    return _MEMO[key]


def load_cifar10(
    split: str = "train",
    classes=None,
    device=None,
    standin: bool | None = None,
    download: bool = False,
) -> LabelledImages:
    """Load CIFAR-10 as uint8 tensors.

    Args:
        split: "train" (50,000) or "test" (10,000).
        classes: optional subset, names or indices, relabelled 0..k-1 in that order
            (``("plane", "car")`` works: plane/car are aliases).
        device: move tensors there (e.g. "cuda").
        standin: allow a synthetic stand-in when no data is found (default: quick mode only).
        download: fetch the original with torchvision (needs network; fails fast).
    Returns:
        LabelledImages: images (N, 3, 32, 32) uint8, labels (N,).
    """
    if split not in {"train", "test"}:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = data_root()
    path = cache_path(root)
    if not path.exists():
        found = next((p for p in _local_sources(root) if p.exists()), None)
        if found is None and download:
            found = download_cifar10(root)
        if found is not None:
            build_cache(found.parent if found.name == "train" else found, root)
    if path.exists():
        raw = _read_cache(path)
        data = LabelledImages(raw[f"{split}_images"], raw[f"{split}_labels"], raw["source"], tuple(raw["classes"]))
    elif use_standin(standin):
        announce_standin("CIFAR-10", f"nothing found in {root}")
        n = 5000 if split == "train" else 1000
        images, labels = class_pattern_standin(n, 10, (3, 32, 32), seed=0 if split == "train" else 1)
        data = LabelledImages(images, labels, "synthetic class-pattern stand-in", CLASSES, synthetic=True)
    else:
        raise missing("CIFAR-10", [str(path)] + [str(p) for p in _local_sources(root)], FIX)
    if classes is not None:
        data = select_classes(data, [ALIASES.get(c, c) if isinstance(c, str) else c for c in classes])
    return data.to(device) if device is not None else data


def download_cifar10(root: Path | None = None) -> Path:
    from torchvision.datasets import CIFAR10

    root = root or data_root()
    check_online(CIFAR10.url)
    CIFAR10(str(root), train=True, download=True)
    return root / "cifar-10-batches-py"


def status(root: Path | None = None) -> str:
    root = root or data_root()
    path = cache_path(root)
    if path.exists():
        raw = _read_cache(path)
        return f"{len(raw['train_labels']):,} train + {len(raw['test_labels']):,} test, cache {path}; {raw['source']}"
    found = next((p for p in _local_sources(root) if p.exists()), None)
    if found is not None:
        return f"found {found}; decoded into {path} on first use"
    return f"MISSING (fix: {FIX})"

