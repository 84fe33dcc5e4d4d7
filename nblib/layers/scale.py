"""Two small head layers of the interpretable networks: a learnable logit scale and a group mean."""
from __future__ import annotations

import math

import torch
from torch import nn


class Scale(nn.Module):
    """Multiply by one learnable positive scalar: ``y = exp(log_scale) * x``.

    The heads of the interpretable networks end in pooled, batch-normalised or
    max-pooled scores whose range has nothing to do with how confident the
    classifier should be; one learnable factor sets the sharpness of the softmax
    over classes (a learnable inverse temperature) without changing any decision.
    Parameterised by its logarithm so it stays positive (a negative scale would
    swap every class ranking).

    Args:
        init: initial scale (> 0).
        learnable: learn it (otherwise a fixed buffer).
    Input/output:
        any shape -> the same shape.
    """

    def __init__(self, init: float = 1.0, learnable: bool = True):
        super().__init__()
        if init <= 0:
            raise ValueError(f"init must be positive, got {init}")
        log_s = torch.tensor(math.log(init))
        if learnable:
            self.log_scale = nn.Parameter(log_s)
        else:
            self.register_buffer("log_scale", log_s)

    @property
    def scale(self) -> torch.Tensor:
        return self.log_scale.exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale

    def extra_repr(self) -> str:
        return f"scale={self.scale.item():.3g}, learnable={isinstance(self.log_scale, nn.Parameter)}"


def group_mean(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Mean over consecutive blocks of units.

    Args:
        x: (N, groups * k).
        groups: number of output units; block g is units g*k .. g*k + k - 1.
    Returns:
        (N, groups).
    """
    if x.dim() != 2 or x.shape[1] % groups:
        raise ValueError(f"expected (N, groups * k) with groups={groups}, got {tuple(x.shape)}")
    return x.view(x.shape[0], groups, -1).mean(-1)  # (N, groups, k) -> (N, groups)


class Mean(nn.Module):
    """A soft AND: average each block of k consecutive units into one unit.

    In the conjunction-disjunction model 120 max-pooled part detectors become 24
    prototypes of 5 parts each (``Mean(24)``): a prototype scores high only if all
    its parts are present somewhere in the image.

    Args:
        groups: output units; the input has groups * k units.
    Input/output:
        (N, groups * k) -> (N, groups).
    """

    def __init__(self, groups: int):
        super().__init__()
        if groups <= 0:
            raise ValueError(f"groups must be positive, got {groups}")
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return group_mean(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
