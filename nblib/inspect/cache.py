"""Where an :class:`~nblib.inspect.hooks.Inspector` puts what it records."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch


class ActivationCache(Mapping):
    """Name -> tensor mapping filled by an :class:`Inspector`.

    With ``accumulate=True`` every forward pass adds a chunk and reading a name
    concatenates its chunks along dim 0; with ``store="disk"`` chunks are files, read
    back lazily (``torch.load(weights_only=True)``).
    """

    def __init__(self) -> None:
        self._chunks: dict[str, list] = {}
        self.grads: ActivationCache | None = None  # the gradients, when recorded

    def _add(self, name: str, value, accumulate: bool) -> None:
        if accumulate:
            self._chunks.setdefault(name, []).append(value)
        else:
            self._chunks[name] = [value]

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._chunks:
            raise KeyError(f"no activations recorded for {name!r}; recorded: {', '.join(self._chunks) or 'none'}")
        chunks = [torch.load(c, weights_only=True) if isinstance(c, Path) else c for c in self._chunks[name]]
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)

    def __iter__(self):
        return iter(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)

    def clear(self) -> None:
        self._chunks.clear()

    def to_dict(self) -> dict[str, torch.Tensor]:
        return {k: self[k] for k in self}

    def __repr__(self) -> str:
        return f"ActivationCache({', '.join(self._chunks)})"


__all__ = ["ActivationCache"]
