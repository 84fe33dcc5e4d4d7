"""The user's own inputs for ``python -m nblib.inspect --input PATH``.

PATH is one of:
- a tensor file: ``.pt``/``.pth`` (read with ``torch.load(weights_only=True)``) or ``.npy``
  (``allow_pickle=False``) holding one (N, C, H, W) batch or (N, T, C, H, W) sequences;
  uint8 values are scaled to [0, 1], floats are used as they are;
- one image (png, jpg, bmp, gif, tif, webp), or a folder of them (sorted by name, not
  recursive), read with Pillow into [0, 1] RGB (``channels=1``: grayscale).

``size`` resizes (bilinear, antialiased) to size x size; ``mean``/``std`` (one value, or one
per channel) normalise as ``(x - mean) / std``. Every problem is an
:class:`~nblib.cli.InputError` naming the file and the fix.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoints import pickled_global
from ..cli import InputError
from ..data.normalisation import normalise_images

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TENSOR_SUFFIXES = (".pt", ".pth", ".npy")


@dataclass
class UserInput:
    """A loaded input batch.

    Attributes:
        tensor: (N, C, H, W) or (N, T, C, H, W) float32.
        description: what was read, for the feature file's metadata.
        names: one name per sample (image file names; "0", "1"... for tensor files).
    """

    tensor: torch.Tensor
    description: str
    names: list[str]

    @property
    def is_sequence(self) -> bool:
        return self.tensor.dim() == 5


def _read_tensor(path: Path) -> torch.Tensor:
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc):
                raise InputError(f"--input {path} holds pickled Python objects, which are never loaded; "
                                 "save a numeric array with np.save") from None
            raise InputError(f"--input {path} is not a readable .npy file ({exc}); save it with np.save") from None
        except (OSError, EOFError) as exc:
            raise InputError(f"--input {path} is not a readable .npy file ({exc.__class__.__name__}); "
                             "save it with np.save") from None
        if array.dtype.kind not in "biuf":
            raise InputError(f"--input {path} holds {array.dtype} values; save a numeric array")
        return torch.from_numpy(np.ascontiguousarray(array))
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        what = pickled_global(exc)
        if what:
            raise InputError(f"--input {path} holds pickled objects ({what}), which are never run here; "
                             "save the batch with torch.save(tensor, PATH)") from None
        raise InputError(f"--input {path} is corrupt or not a torch file ({exc.__class__.__name__}); "
                         "save the batch with torch.save(tensor, PATH)") from None
    if not isinstance(value, torch.Tensor):
        what = f"a dict with keys {', '.join(map(str, value))[:80]}" if isinstance(value, dict) else f"a {type(value).__name__}"
        raise InputError(f"--input {path} holds {what}, not a tensor; save one (N, C, H, W) or "
                         "(N, T, C, H, W) tensor with torch.save(tensor, PATH)")
    return value


def _open_image(path: Path, channels: int) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            array = np.asarray(img, dtype=np.uint8)  # (H, W) or (H, W, 3)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot decode image {path} ({exc.__class__.__name__}); remove or replace that file") from None
    t = torch.from_numpy(array.copy())
    t = t[None] if t.dim() == 2 else t.permute(2, 0, 1)  # (C, H, W)
    return t.float() / 255


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(..., C, H, W) -> (..., C, size, size), bilinear with antialiasing."""
    lead = x.shape[:-3]
    flat = x.reshape(-1, *x.shape[-3:])
    out = F.interpolate(flat, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return out.reshape(*lead, *out.shape[1:])


def _images(paths: Sequence[Path], size: int | None, channels: int) -> torch.Tensor:
    from tqdm.auto import tqdm

    tensors = []
    for p in tqdm(paths, desc="reading images", disable=len(paths) < 50, leave=False):
        img = _open_image(p, channels)
        tensors.append(_resize(img, size) if size else img)
    shapes = sorted({tuple(t.shape[-2:]) for t in tensors})
    if len(shapes) > 1:
        sizes = ", ".join(f"{h}x{w}" for h, w in shapes[:4])
        raise InputError(f"the images have different sizes ({sizes}); pass --size N to resize them all to N x N")
    return torch.stack(tensors)  # (N, C, H, W)


def load_input(path: str | Path, size: int | None = None, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None, channels: int = 3) -> UserInput:
    """Read a tensor file, an image or a folder of images (see the module docstring).

    Args:
        path: the file or folder.
        size: resize to size x size pixels (None: keep; a folder's images must then agree).
        mean, std: per-channel normalisation (one value or C values); std must be > 0.
        channels: 3 (RGB) or 1 (grayscale) for images; tensor files keep their channels.
    Returns:
        :class:`UserInput` with a float32 (N, C, H, W) or (N, T, C, H, W) tensor.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"--input {path} not found; pass a .pt/.npy tensor file, an image or a folder of images")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(f"--input folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                             "put your images there or pass a tensor file")
        x, what, names = _images(files, size, channels), f"{len(files)} images from {path}", [p.name for p in files]
    elif path.stat().st_size == 0:
        raise InputError(f"--input {path} is empty (0 bytes); pass the file again after writing it completely")
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        x, what, names = _images([path], size, channels), f"image {path}", [path.name]
    elif path.suffix.lower() in TENSOR_SUFFIXES:
        x = _read_tensor(path)
        if x.dim() not in (4, 5) or x.numel() == 0:
            raise InputError(f"--input {path} holds a tensor of shape {tuple(x.shape)}; expected (N, C, H, W) "
                             "or (N, T, C, H, W) (add a batch dim with x[None])")
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        if size:
            x = _resize(x, size)
        what, names = f"tensor {tuple(x.shape)} from {path}", [str(i) for i in range(x.shape[0])]
    else:
        raise InputError(f"--input {path}: unsupported file type {path.suffix or '(none)'}; "
                         f"use {', '.join(TENSOR_SUFFIXES + IMAGE_SUFFIXES)} or a folder of images")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise InputError(f"--input {path} holds {bad} NaN/Inf values; clean the input before inspecting")
    x = normalise(x, mean, std)
    if mean is not None or std is not None:
        what += f", normalised with mean {list(mean or [0.0])} std {list(std or [1.0])}"
    return UserInput(x.contiguous(), what, names)


def normalise(x: torch.Tensor, mean: Sequence[float] | None, std: Sequence[float] | None) -> torch.Tensor:
    """(x - mean) / std over the channel dim (-3) of float (..., C, H, W), after checking the
    command line's ``--mean``/``--std``; the arithmetic is :func:`nblib.data.normalise_images`."""
    c = x.shape[-3]
    for flag, values in (("--mean", mean), ("--std", std)):
        if values is not None and len(values) not in (1, c):
            raise InputError(f"{flag} has {len(values)} values but the input has {c} channels; give 1 or {c}")
    if std is not None and any(not s > 0 for s in std):
        raise InputError(f"--std {list(std)} must be positive (it divides the input)")
    return normalise_images(x, mean, std)


__all__ = ["IMAGE_SUFFIXES", "TENSOR_SUFFIXES", "UserInput", "load_input", "normalise"]
