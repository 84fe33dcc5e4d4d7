"""Reference readings for correlation and CKA: what the same statistic gives with no structure.

- shuffled features: each feature's values permuted independently across the N inputs, so every
  cross-feature dependence is destroyed while each feature's distribution is kept;
- shuffled samples: one layer's rows permuted, so two layers no longer see the same input.

A reading means something only beside these (and beside the untrained network).
"""
from __future__ import annotations

import torch

from .cka import linear_cka
from .core import cross_correlation, mean_abs_correlation


def shuffle_features(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, D) -> each column permuted independently (one argsort of random keys, no loop)."""
    keys = torch.rand(x.shape, generator=generator, device="cpu").to(x.device)   # (N, D)
    return x.gather(0, keys.argsort(0))


def shuffled_feature_correlation(x: torch.Tensor, seed: int = 0) -> float:
    """Mean off-diagonal |r| of a layer's features after independent shuffling (about sqrt(2 / (pi N)))."""
    g = torch.Generator().manual_seed(seed)
    return mean_abs_correlation(cross_correlation(shuffle_features(x.flatten(1), g)), same_layer=True)


def shuffled_sample_cka(a: torch.Tensor, b: torch.Tensor, debiased: bool = False, seed: int = 0) -> float:
    """CKA between ``a`` and ``b`` with ``b``'s rows permuted: the value of two unrelated layers."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(b.shape[0], generator=g).to(b.device)
    return linear_cka(a, b[perm], debiased=debiased)
