"""Pieces every dataset loader shares: the result type, missing-data errors, stand-ins."""
from __future__ import annotations

import socket
import warnings
from dataclasses import dataclass, field, replace
from typing import Sequence
from urllib.parse import urlparse

import torch

from ..cli import InputError
from ..runtime import is_quick


class DataNotFoundError(InputError, FileNotFoundError):
    """A dataset is not in the data root. The message names the command that fixes it."""


def missing(name: str, looked: Sequence[str], fix: str) -> DataNotFoundError:
    where = "\n".join(f"  - {p}" for p in looked)
    return DataNotFoundError(
        f"{name} not found. Looked in:\n{where}\nFix: {fix}\n"
        "(Run `python -m nblib.data status` to see every dataset.)"
    )


def use_standin(standin: bool | None) -> bool:
    """Whether a loader may fall back to a synthetic stand-in when real data is missing.

    ``None`` (default) allows it in quick mode only: a smoke run on a machine with no
    data still runs, while a full run never reports numbers on fake data.
    """
    return is_quick() if standin is None else standin


def announce_standin(name: str, reason: str) -> None:
    msg = (
        f"*** SYNTHETIC STAND-IN for {name}: {reason}. Numbers from this run say nothing "
        f"about {name}; prepare the real data (`python -m nblib.data status`). ***"
    )
    print(msg)
    warnings.warn(msg, stacklevel=3)


def check_online(url: str, timeout: float = 3.0) -> None:
    """Fail within ``timeout`` seconds, instead of hanging in a download, when offline."""
    host = urlparse(url).hostname or url
    port = 443 if url.startswith("https") else 80
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise DataNotFoundError(
            f"cannot reach {host} ({exc.__class__.__name__}: {exc}); this machine looks offline. "
            "Copy the files here by hand and import them with "
            "`python -m nblib.data prepare NAME --from PATH`."
        ) from None


@dataclass
class LabelledImages:
    """Images with integer labels and a statement of where they came from.

    Attributes:
        images: (N, C, H, W) uint8 in [0, 255], or float.
        labels: (N,) int64 class indices.
        source: human-readable origin ("official MNIST test set, IDX files in ...").
        classes: class names, index = label.
        synthetic: True for a stand-in: never report its numbers as results.
    """

    images: torch.Tensor
    labels: torch.Tensor
    source: str
    classes: tuple[str, ...] = ()
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device) -> "LabelledImages":
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def float(self) -> "LabelledImages":
        """Images as float32 in [0, 1]."""
        return replace(self, images=self.images.float().div_(255.0) if self.images.dtype == torch.uint8 else self.images.float())

    def subset(self, index) -> "LabelledImages":
        return replace(self, images=self.images[index], labels=self.labels[index])

    def describe(self) -> str:
        tag = "SYNTHETIC STAND-IN, " if self.synthetic else ""
        shape = "x".join(map(str, self.images.shape[1:]))
        return f"{tag}{len(self):,} images {shape} {self.images.dtype}, {len(self.classes)} classes; {self.source}"

    def __repr__(self) -> str:
        return f"LabelledImages({self.describe()})"


def select_classes(data: LabelledImages, classes: Sequence[str | int] | None) -> LabelledImages:
    """Keep only ``classes`` (names or indices) and relabel them 0..k-1 in the order given."""
    if classes is None:
        return data
    idx = []
    for c in classes:
        if isinstance(c, str):
            if c not in data.classes:
                raise ValueError(f"unknown class {c!r}; classes are {list(data.classes)}")
            idx.append(data.classes.index(c))
        else:
            idx.append(int(c))
    lookup = torch.full((max(len(data.classes), max(idx) + 1),), -1, dtype=torch.long)
    lookup[torch.tensor(idx)] = torch.arange(len(idx))
    new = lookup.to(data.labels.device)[data.labels]
    keep = new >= 0
    return replace(
        data,
        images=data.images[keep],
        labels=new[keep],
        classes=tuple(data.classes[i] for i in idx),
        source=data.source + f" (classes {', '.join(data.classes[i] for i in idx)})",
    )


def class_pattern_standin(n: int, classes: int, shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Learnable fake images: one smooth random template per class plus noise, uint8.

    Same shape and dtype as the real data, so every code path runs; a model can beat
    chance on it, so accuracy asserts in smoke runs still mean "the loop learns".
    """
    g = torch.Generator().manual_seed(seed)
    c, h, w = shape
    coarse = torch.rand(classes, c, max(h // 4, 1), max(w // 4, 1), generator=g)
    templates = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    labels = torch.randint(0, classes, (n,), generator=g)
    images = 0.7 * templates[labels] + 0.3 * torch.rand(n, c, h, w, generator=g)
    return (images * 255).round().to(torch.uint8), labels
