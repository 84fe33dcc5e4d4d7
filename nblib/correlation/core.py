"""Correlations between and within layers, computed on the device by standardised matrix products.

For layers with outputs a (N, Da) and b (N, Db) over the same N inputs, the Pearson
correlation of every feature pair is ``za.T @ zb / N`` with ``z`` the per-feature standardised
outputs: one matrix product per layer pair, no loop over features. A feature that is constant
over the N inputs (a dead unit) has no defined correlation: its row/column is NaN, as in
``numpy.corrcoef``, and summaries skip it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..inspect import run_with_cache


def get_intermediate_outputs(model: nn.Module, x: torch.Tensor, names: Sequence[str], flatten: bool = True) -> dict[str, torch.Tensor]:
    """Outputs of the named modules for input ``x`` (one no-grad forward pass via the inspector).

    Returns:
        name -> (N, D) flattened outputs (or the raw shapes with ``flatten=False``), in ``names`` order.
    """
    _, cache = run_with_cache(model, x, names_filter=list(names))
    return {n: cache[n].flatten(1) if flatten else cache[n] for n in names}


def standardize(x: torch.Tensor) -> torch.Tensor:
    """(N, D) -> per-feature zero mean, unit (population) std; constant features become NaN."""
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(f"expected (N, D) outputs with N >= 2, got {tuple(x.shape)}")
    x = x.double() if x.dtype == torch.float64 else x.float()
    centred = x - x.mean(0)
    std = centred.square().mean(0).sqrt()
    # constant: the spread is rounding error (a few ulps of the values), in float32 as in float64
    constant = std <= 32 * torch.finfo(x.dtype).eps * x.abs().amax(0)
    return torch.where(constant, torch.full_like(centred, float("nan")), centred / std.clamp_min(1e-30))


def cross_correlation(a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Feature x feature Pearson correlations between a (N, Da) and b (N, Db): (Da, Db).

    With ``b=None`` the correlation of ``a`` with itself (Da, Da), diagonal 1.
    """
    za = standardize(a)
    zb = za if b is None else standardize(b)
    if za.shape[0] != zb.shape[0]:
        raise ValueError(f"layers saw different numbers of inputs: {za.shape[0]} vs {zb.shape[0]}")
    return (za.t() @ zb / za.shape[0]).clamp_(-1, 1)  # NaN rows/cols stay NaN


def sample_correlation(x: torch.Tensor) -> torch.Tensor:
    """Sample x sample correlations (N, N) of the feature vectors of x (N, D): rows as variables."""
    return cross_correlation(x.t())


def mean_abs_correlation(corr: torch.Tensor, same_layer: bool = False) -> float:
    """Mean |r| over the defined entries; within one layer the diagonal (r = 1) is left out."""
    c = corr.abs()
    if same_layer:
        c = c.masked_fill(torch.eye(c.shape[0], dtype=torch.bool, device=c.device), float("nan"))
    return c.nanmean().item()


def layerwise_cross_correlation(outputs: Mapping[str, torch.Tensor]) -> dict[tuple[str, str], torch.Tensor]:
    """Correlation matrix for every pair of layers (i <= j) in ``outputs`` order.

    Args:
        outputs: name -> (N, D) flattened outputs for the same N inputs.
    Returns:
        (name_i, name_j) -> (D_i, D_j) correlations.
    """
    names = list(outputs)
    z = {n: standardize(outputs[n]) for n in names}  # standardise each layer once
    n = next(iter(z.values())).shape[0]
    return {(a, b): (z[a].t() @ z[b] / n).clamp_(-1, 1) for i, a in enumerate(names) for b in names[i:]}


def correlation_summary(corrs: Mapping[tuple[str, str], torch.Tensor]) -> dict[str, float]:
    """Mean |r| per layer pair, keyed ``"a|b"`` (JSON-friendly)."""
    return {f"{a}|{b}": mean_abs_correlation(c, same_layer=a == b) for (a, b), c in corrs.items()}


def feature_order(corr: torch.Tensor) -> torch.Tensor:
    """A permutation that puts correlated features next to each other (for plotting).

    Features are sorted by their loading on the leading eigenvector of the within-layer
    correlation matrix (spectral seriation); undefined (constant) features go last.

    Args:
        corr: (D, D) within-layer correlations, NaN for constant features.
    Returns:
        (D,) long permutation.
    """
    undefined = corr.diagonal().isnan()
    c = torch.nan_to_num(corr.double(), nan=0.0)
    _, vecs = torch.linalg.eigh(c)
    key = vecs[:, -1] * vecs[:, -1].sum().sign().clamp_min(0).mul(2).sub(1)  # fixed sign: reproducible
    key = key.masked_fill(undefined.to(key.device), float("inf"))
    return key.argsort()
