"""SoftMaxPool: a differentiable disjunction over groups of units."""
from __future__ import annotations

import math

import torch
from torch import nn


def softmax_pool(x: torch.Tensor, groups: int, temperature: torch.Tensor | float) -> torch.Tensor:
    """Softmax-weighted mean of each group of units: sum_k softmax(x_k / T) x_k.

    Args:
        x: (N, groups * k) unit scores; consecutive blocks of k units form a group.
        groups: number of groups (e.g. classes).
        temperature: T > 0. T -> 0 gives the max of each group, T -> infinity its mean.
    Returns:
        (N, groups).
    """
    if x.dim() != 2 or x.shape[1] % groups:
        raise ValueError(f"expected (N, groups * k) with groups={groups}, got {tuple(x.shape)}")
    v = x.view(x.shape[0], groups, -1)  # (N, groups, k)
    w = torch.softmax(v / temperature, dim=-1)
    return (w * v).sum(-1)


class SoftMaxPool(nn.Module):
    """Pool ``groups`` blocks of units with a (learnable) temperature.

    A smooth "OR" over the k variants of each group (class): close to the best-matching
    variant for small T, to their average for large T, differentiable everywhere so every
    variant gets gradient in proportion to its softmax weight.

    Args:
        groups: output units (e.g. classes); the input has groups * k units.
        temperature: initial T.
        learnable: learn log T (keeps T positive).
    Input/output:
        (N, groups * k) -> (N, groups).
    """

    def __init__(self, groups: int, temperature: float = 1.0, learnable: bool = True):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.groups = groups
        log_t = torch.tensor(math.log(temperature))
        if learnable:
            self.log_temperature = nn.Parameter(log_t)
        else:
            self.register_buffer("log_temperature", log_t)

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_temperature.exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return softmax_pool(x, self.groups, self.temperature)

    def extra_repr(self) -> str:
        return f"groups={self.groups}, temperature={self.temperature.item():.3g}, learnable={isinstance(self.log_temperature, nn.Parameter)}"
