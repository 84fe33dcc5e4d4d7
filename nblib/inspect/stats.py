"""Activation statistics per layer and per channel.

Convention: activations are (N, C, *spatial), N samples (or frames), C channels, and
any number of spatial dims (none for a linear layer). Every function is vectorised and
stays on the tensor's device; none keeps more than one batch in memory. float16 and
bfloat16 activations are measured in float32, float64 in float64, integers as float32.
Token layers (a ViT block, ``nn.MultiheadAttention``, ``nn.LSTM(batch_first=True)``) give
(N, L, D): pass ``x.transpose(1, 2)`` to measure the D features as channels.

Definitions (the thresholds the reports use live with the reports):
- sparsity: fraction of values with |a| <= eps.
- dead channel: a channel with |a| <= eps everywhere it was observed.
- channel entropy: Shannon entropy, in bits, of the histogram (``bins`` equal bins
  between the channel's own min and max) of one channel's values over the spatial
  positions of one sample. 0 for a constant (e.g. dead) channel, log2(bins) at most.
- spatial diversity: 1 - mean cosine similarity between the C-dim feature vectors of
  every pair of distinct spatial positions (positions whose vector is all zero are
  left out: they have no direction).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F

DEFAULT_EPS = 1e-6
DEFAULT_BINS = 32


def _check(x: torch.Tensor, spatial: bool = False) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(x).__name__}")
    if x.numel() == 0:
        raise ValueError("empty activations (no values to measure)")
    if x.dim() < (3 if spatial else 2):
        want = "(N, C, H, W) or (N, C, L)" if spatial else "(N, C, ...)"
        raise ValueError(f"activations of shape {tuple(x.shape)}: expected {want}")
    if x.dtype in (torch.float16, torch.bfloat16) or not x.is_floating_point():
        return x.float()  # half precision: float32 math (no overflow in squares, no dtype clashes)
    return x  # float32 and float64 are measured in their own precision


def sparsity(x: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """Fraction of values with |a| <= eps (0-dim tensor)."""
    return (x.abs() <= eps).float().mean()


def channel_stats(x: torch.Tensor, eps: float = DEFAULT_EPS) -> dict[str, torch.Tensor]:
    """Per-channel mean, std, min, max, sparsity and dead flag, over samples and positions.

    Args:
        x: (N, C, ...) activations.
    Returns:
        dict of (C,) tensors.
    """
    x = _check(x)
    v = x.transpose(0, 1).reshape(x.shape[1], -1)  # (C, N * positions)
    active = v.abs() > eps
    return {
        "mean": v.mean(1),
        "std": v.std(1, unbiased=False),
        "min": v.amin(1),
        "max": v.amax(1),
        "sparsity": 1 - active.float().mean(1),
        "dead": ~active.any(1),
    }


def dead_channels(x: torch.Tensor, eps: float = DEFAULT_EPS, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(C,) bool: channels with |a| <= eps for every sample and (valid) position."""
    return masked_dead_channels(x, mask, eps)


def channel_entropy(x: torch.Tensor, bins: int = DEFAULT_BINS, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Entropy (bits) of each channel's value histogram.

    Args:
        x: (N, C, *spatial) with spatial dims: one histogram per sample and channel over
           its (valid) positions -> (N, C). Or (N, C): one histogram per channel over samples -> (C,).
        bins: equal-width bins between the channel's own min and max.
        mask: optional (N, *spatial) valid positions (see :func:`masked_channel_entropy`).
    """
    x = _check(x)
    if x.dim() == 2:
        return masked_channel_entropy(x.t()[None], None, bins)[0]  # samples as the positions of one "sample"
    return masked_channel_entropy(x, mask, bins)


def spatial_diversity(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """1 - mean pairwise cosine similarity between spatial positions, per sample.

    Positions whose feature vector is all zero have no direction and are left out (on a
    mostly black input they would otherwise push the score towards 1). Exact and
    O(positions x C): with unit vectors u_i, the sum of u_i . u_j over ordered pairs
    i != j is |sum_i u_i|^2 - n, so no positions x positions matrix is formed.

    Args:
        x: (N, C, *spatial).
        mask: optional (N, *spatial) bool, positions to include (e.g. an ARC grid's cells).
    Returns:
        (N,) diversity in [0, 2] (0: all positions point the same way; 1: orthogonal on
        average); NaN for a sample with fewer than two non-zero positions.
    """
    x = _check(x, spatial=True)
    v = x.flatten(2)  # (N, C, P)
    norms = v.norm(dim=1)  # (N, P)
    keep = norms > 0
    if mask is not None:
        keep &= mask.reshape(x.shape[0], -1).to(keep.device)
    u = v / norms.clamp_min(1e-30)[:, None] * keep[:, None]  # unit vectors, zero where left out
    n = keep.sum(1).float()  # (N,)
    pair_sum = u.sum(-1).square().sum(-1) - n  # sum over i != j of cos(i, j)
    div = 1 - pair_sum / (n * (n - 1)).clamp_min(1)
    return torch.where(n >= 2, div, torch.full_like(div, float("nan")))


def spatial_similarity(x: torch.Tensor, max_positions: int = 1024) -> torch.Tensor:
    """Cosine similarity matrix between the spatial positions of one sample, for plotting.

    Args:
        x: (C, *spatial) one sample. Positions are strided down to at most ``max_positions``.
    Returns:
        (P, P) similarities in [-1, 1].
    """
    if x.dim() < 2:
        raise ValueError(f"expected (C, H, W) or (C, L) for one sample, got {tuple(x.shape)}")
    v = x.float().flatten(1)  # (C, P)
    stride = max(1, math.ceil(v.shape[1] / max_positions))
    u = torch.nn.functional.normalize(v[:, ::stride], dim=0)
    return u.t() @ u


# ---------------------------------------------------------------- per sample, over valid positions only
def _valid_positions(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(N, P) float weights: 1 at valid positions of each sample (all, without a mask).

    A mask at another resolution than the layer is resized (nearest) to the layer's grid.
    """
    n, spatial = x.shape[0], x.shape[2:]
    if mask is None:
        return torch.ones(n, math.prod(spatial), device=x.device)
    mask = mask.to(x.device)
    if mask.shape[0] != n:
        raise ValueError(f"mask has {mask.shape[0]} samples, activations {n}")
    if tuple(mask.shape[1:]) != tuple(spatial):
        if mask.dim() != len(spatial) + 1 or len(spatial) not in (1, 2, 3):
            raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit activations {tuple(x.shape)}: "
                             "pass (N, *spatial) at the input's or the layer's resolution")
        mask = F.interpolate(mask[:, None].float(), size=spatial, mode="nearest")[:, 0] > 0.5
    return mask.reshape(n, -1).float()


def _valid_values(x: torch.Tensor, mask: torch.Tensor | None):
    """The values at valid positions only, so that no metric pays for (or sees) padding.

    Returns:
        values (V, C) (one row per valid position of any sample), sample (V,) int64 index
        of each row's sample, and n_valid (N,) valid positions per sample.
    """
    n, c = x.shape[:2]
    v = x.flatten(2)  # (N, C, P)
    if mask is None:
        sample = torch.arange(n, device=x.device).repeat_interleave(v.shape[2])  # (N*P,)
        return v.transpose(1, 2).reshape(-1, c), sample, torch.full((n,), v.shape[2], device=x.device)
    keep = _valid_positions(x, mask) > 0  # (N, P)
    sample, position = keep.nonzero(as_tuple=True)  # (V,) each
    return v[sample, :, position], sample, keep.sum(1)  # (V, C)


def _per_sample_sum(values: torch.Tensor, sample: torch.Tensor, n: int) -> torch.Tensor:
    """(N,) sum over the rows (and columns) of ``values`` (V, C) belonging to each sample."""
    return torch.zeros(n, device=values.device).index_add_(0, sample, values.float().sum(1))


def masked_sparsity(x: torch.Tensor, mask: torch.Tensor | None = None, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """(N,) fraction of values with |a| <= eps over channels and valid positions of each sample."""
    x = _check(x, spatial=True)
    values, sample, n_valid = _valid_values(x, mask)
    inactive = _per_sample_sum(values.abs() <= eps, sample, x.shape[0])
    return inactive / (n_valid * x.shape[1]).clamp_min(1)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(N,) mean value over channels and valid positions of each sample."""
    x = _check(x, spatial=True)
    values, sample, n_valid = _valid_values(x, mask)
    return _per_sample_sum(values, sample, x.shape[0]) / (n_valid * x.shape[1]).clamp_min(1)


def masked_channel_entropy(x: torch.Tensor, mask: torch.Tensor | None = None, bins: int = DEFAULT_BINS) -> torch.Tensor:
    """(N, C) entropy in bits of each channel's ``bins``-bin histogram over a sample's valid positions.

    Bins span the channel's min..max over those positions; a constant channel has entropy 0.
    """
    x = _check(x, spatial=True)
    n, c = x.shape[:2]
    values, sample, n_valid = _valid_values(x, mask)  # (V, C), (V,), (N,)
    rows = sample[:, None].expand_as(values)
    lo = torch.full((n, c), math.inf, device=x.device, dtype=values.dtype).scatter_reduce(0, rows, values, "amin")  # (N, C)
    hi = torch.full((n, c), -math.inf, device=x.device, dtype=values.dtype).scatter_reduce(0, rows, values, "amax")
    span = (hi - lo).clamp_min(torch.finfo(values.dtype).tiny)
    idx = ((values - lo[sample]) / span[sample] * bins).nan_to_num(0).long().clamp_(0, bins - 1)  # (V, C) bin
    flat = (rows * c + torch.arange(c, device=x.device)) * bins + idx  # (V, C) index into (N, C, bins)
    counts = torch.bincount(flat.flatten(), minlength=n * c * bins).view(n, c, bins).to(values.dtype)
    p = counts / n_valid[:, None, None].clamp_min(1)
    return -(p * torch.log2(p.clamp_min(1e-30))).sum(-1)


def masked_dead_channels(x: torch.Tensor, mask: torch.Tensor | None = None, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """(C,) bool: channels with |a| <= eps at every valid position of every sample."""
    x = _check(x)
    if x.dim() == 2:
        return ~(x.abs() > eps).any(0)
    values, _, _ = _valid_values(x, mask)
    return ~(values.abs() > eps).any(0)


def value_histogram(x: torch.Tensor, bins: int = 100, range: tuple[float, float] | None = None):
    """Histogram of all values: (counts (bins,), edges (bins + 1,))."""
    x = x.detach().float().flatten()
    if x.numel() == 0:
        raise ValueError("empty activations (no values to measure)")
    lo, hi = (x.min().item(), x.max().item()) if range is None else range
    if hi <= lo:
        hi = lo + 1e-6
    counts = torch.histc(x, bins=bins, min=lo, max=hi)
    return counts, torch.linspace(lo, hi, bins + 1)


def layer_summary(x: torch.Tensor, eps: float = DEFAULT_EPS, bins: int = DEFAULT_BINS, mask=None) -> dict[str, float]:
    """One row of numbers for a layer: mean, std, max, sparsity, dead channels, entropy, diversity.

    Entropy and diversity are averaged over samples (and channels); ``*_std`` gives
    their spread. Diversity is NaN for layers without spatial dims.
    """
    x = _check(x)
    cs = channel_stats(x, eps)
    ent = channel_entropy(x, bins)
    row = {
        "shape": tuple(x.shape),
        "mean": x.mean().item(),
        "std": x.std(unbiased=False).item(),
        "max": x.max().item(),
        "sparsity": sparsity(x, eps).item(),
        "sparsity_std": (x.abs() <= eps).flatten(1).float().mean(1).std(unbiased=False).item(),
        "dead_channels": int(cs["dead"].sum()),
        "channels": x.shape[1],
        "channel_entropy": ent.mean().item(),
        "channel_entropy_std": ent.std(unbiased=False).item(),
        "spatial_diversity": float("nan"),
        "spatial_diversity_std": float("nan"),
    }
    if x.dim() > 2:
        div = spatial_diversity(x, mask)
        div = div[~div.isnan()]
        if div.numel():
            row["spatial_diversity"], row["spatial_diversity_std"] = div.mean().item(), div.std(unbiased=False).item()
    return row


def summarize(activations: Mapping[str, torch.Tensor], eps: float = DEFAULT_EPS, bins: int = DEFAULT_BINS):
    """``layer_summary`` of every layer, as a pandas DataFrame indexed by layer name."""
    import pandas as pd

    rows = {name: layer_summary(act, eps, bins) for name, act in activations.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


class ChannelAccumulator:
    """Per-channel statistics over a whole dataset, one batch at a time.

    Keeps O(C) running sums on the tensors' device (no host synchronisation in
    ``update``), so dead channels and sparsity can be measured over any number of
    batches without keeping activations.

        acc = ChannelAccumulator()
        for x in batches: acc.update(act(x))
        acc.result()["dead"]
    """

    def __init__(self, eps: float = DEFAULT_EPS):
        self.eps = eps
        self.count = 0
        self._sum = self._sumsq = self._active = self._max = self._min = None

    def update(self, x: torch.Tensor) -> None:
        x = _check(x.detach())
        dims = (0, *range(2, x.dim()))  # reduce over samples and positions, in place: no transposed copy
        c = x.shape[1]
        if self._sum is None:
            def zeros():
                return torch.zeros(c, dtype=torch.float64, device=x.device)
            self._sum, self._sumsq, self._active = zeros(), zeros(), zeros()
            self._max = torch.full((c,), -math.inf, dtype=torch.float64, device=x.device)
            self._min = torch.full((c,), math.inf, dtype=torch.float64, device=x.device)
        elif c != self._sum.shape[0]:
            raise ValueError(f"got {c} channels, earlier batches had {self._sum.shape[0]}")
        self._sum += x.sum(dims, dtype=torch.float64)  # float64 accumulation, no float64 copy of x
        self._sumsq += x.square().sum(dims, dtype=torch.float64)
        self._active += (x.abs() > self.eps).sum(dims)
        torch.maximum(self._max, x.amax(dims), out=self._max)
        torch.minimum(self._min, x.amin(dims), out=self._min)
        self.count += x.numel() // c

    def result(self) -> dict[str, torch.Tensor]:
        """(C,) tensors: mean, std, min, max, sparsity, dead (bool)."""
        if self._sum is None:
            raise ValueError("no batches seen: call update() first")
        mean = self._sum / self.count
        var = (self._sumsq / self.count - mean.square()).clamp_min(0)
        return {
            "mean": mean.float(),
            "std": var.sqrt().float(),
            "min": self._min.float(),
            "max": self._max.float(),
            "sparsity": (1 - self._active / self.count).float(),
            "dead": self._active == 0,
        }
