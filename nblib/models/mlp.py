"""A plain MLP with BatchNorm, the model of the layer-correlation study (notebook 03)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Blocks ``layer1..layer{L-1}`` = Linear -> BatchNorm1d -> ReLU, then ``layer{L}`` = Linear (logits).

    Args:
        sizes: widths from input to output, e.g. (784, 256, 128, 64, 10) for the 4-layer MNIST model.
    Input/output:
        (N, ...) flattened to (N, sizes[0]) -> (N, sizes[-1]).
    """

    def __init__(self, sizes: Sequence[int] = (784, 256, 128, 64, 10)):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"need at least input and output sizes, got {sizes}")
        self.sizes = tuple(sizes)
        n = len(sizes) - 1
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            block = nn.Linear(a, b) if i == n else nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU())
            self.add_module(f"layer{i}", block)

    @property
    def layer_names(self) -> list[str]:
        return [f"layer{i}" for i in range(1, len(self.sizes))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (N, sizes[0])
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x
