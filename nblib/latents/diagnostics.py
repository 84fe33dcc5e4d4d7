"""Latent diagnostics for any VAE with diagonal Gaussian posteriors.

- :func:`gaussian_kl`: KL(q || p) per latent unit, closed form, against N(0, I) or any diagonal prior.
- :func:`active_units`: Burda et al. (2016): unit u is active when Cov_x(E[z_u | x]) > 0.01.
- :func:`mu_histograms`: per-unit histograms of posterior means (what a batch mean hides).
- :func:`factor_mutual_information`: how much each unit tells about each known generative factor, and
  :func:`mutual_information_gap`: MIG (Chen et al. 2018), the margin of the best unit over the runner-up.
- :func:`loss_fluctuation`: how erratic a loss curve is around its own trend, and
  :func:`fluctuation_explained_by`: how much of that a per-step covariate (the batch's content) explains.

All functions take tensors on any device and stay vectorised over samples and units.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.vae_encoders import gaussian_kl  # the closed-form KL the model itself uses


@dataclass
class LayerCodes:
    """One latent layer's posterior over a dataset, the input of the layer-level diagnostics."""

    mu: torch.Tensor  # (N, D) posterior means
    logvar: torch.Tensor  # (N, D) posterior log-variances
    kl: torch.Tensor  # (D,) mean KL(q || p) per unit over the dataset


def active_units(posterior_means: torch.Tensor, threshold: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Active units per Burda, Grosse & Salakhutdinov (2016).

    Args:
        posterior_means: (N, D) E_q[z | x] for N inputs.
        threshold: a unit is active when its variance over inputs exceeds this (0.01 in the paper).
    Returns:
        ``(active, variance)``: (D,) bool and (D,) the unbiased variance over the N inputs.
    """
    if posterior_means.dim() != 2 or posterior_means.shape[0] < 2:
        raise ValueError(f"posterior_means must be (N >= 2, D), got {tuple(posterior_means.shape)}")
    variance = posterior_means.float().var(dim=0)  # (D,)
    return variance > threshold, variance


def histogram_edges(bins: int = 41, value_range: tuple[float, float] = (-4.0, 4.0)) -> torch.Tensor:
    """(bins + 1,) equal-width edges over ``value_range``."""
    return torch.linspace(value_range[0], value_range[1], bins + 1)


def mu_histograms(mu: torch.Tensor, bins: int = 41, value_range: tuple[float, float] = (-4.0, 4.0)) -> torch.Tensor:
    """Histogram of every unit's posterior means over a batch, in one ``bincount``.

    Args:
        mu: (N, D) posterior means.
        bins, value_range: equal-width bins; values outside the range count in the end bins.
    Returns:
        (D, bins) float counts (each row sums to N). Stack one per epoch to see units move.
    """
    n, d = mu.shape
    lo, hi = value_range
    idx = ((mu.float() - lo) / (hi - lo) * bins).floor().long().clamp(0, bins - 1)  # (N, D)
    flat = idx + torch.arange(d, device=mu.device)[None, :] * bins  # (N, D): unit-major bin ids
    return torch.bincount(flat.flatten(), minlength=d * bins).view(d, bins).float()  # (D, bins)


def _entropy(p: torch.Tensor, dim: int) -> torch.Tensor:
    return -(p * p.clamp_min(1e-30).log()).sum(dim)


def factor_mutual_information(latents: torch.Tensor, factors: torch.Tensor, bins: int = 20,
                              normalise: bool = True) -> torch.Tensor:
    """Mutual information between each latent unit and each discrete factor (MIG-style estimate).

    Each unit is cut into ``bins`` equal-width bins over its own [min, max]; the MI of the
    (unit bin, factor level) joint histogram is computed for all units and factors at once.
    The plug-in estimate is biased upwards by about (bins - 1)(levels - 1) / (2N) nats.

    Args:
        latents: (N, D) e.g. posterior means.
        factors: (N, K) non-negative integer factor levels (dSprites: shape, scale, ...).
        bins: bins per unit. A unit can carry at most log(bins) nats, so a factor with more
            levels than bins cannot reach a normalised score of 1.
        normalise: divide by the factor's entropy H(f), giving a score in [0, 1].
    Returns:
        (D, K) MI in nats, or MI / H(f) when ``normalise``.
    """
    if latents.dim() != 2 or factors.dim() != 2 or latents.shape[0] != factors.shape[0]:
        raise ValueError(f"expected latents (N, D) and factors (N, K); got {tuple(latents.shape)}, {tuple(factors.shape)}")
    if factors.is_floating_point() or (factors < 0).any():
        raise ValueError("factors must be non-negative integer levels; discretise continuous labels first")
    n, d = latents.shape
    k = factors.shape[1]
    levels = int(factors.max()) + 1
    lat = latents.float()
    lo, hi = lat.min(0).values, lat.max(0).values  # (D,)
    b = ((lat - lo) / (hi - lo).clamp_min(1e-12) * bins).floor().long().clamp(0, bins - 1)  # (N, D)
    units = torch.arange(d, device=lat.device)[None, :, None]  # (1, D, 1)
    facs = torch.arange(k, device=lat.device)[None, None, :]  # (1, 1, K)
    idx = (((units * k + facs) * bins + b[:, :, None]) * levels + factors.to(lat.device)[:, None, :])  # (N, D, K)
    joint = torch.bincount(idx.flatten(), minlength=d * k * bins * levels).view(d, k, bins, levels).float() / n
    p_unit, p_factor = joint.sum(3), joint.sum(2)  # (D, K, bins), (D, K, levels)
    mi = _entropy(p_unit, 2) + _entropy(p_factor, 2) - _entropy(joint.flatten(2), 2)  # (D, K)
    mi = mi.clamp_min(0)
    if not normalise:
        return mi
    h_factor = p_factor[0]  # (K, levels): the same for every unit
    return mi / _entropy(h_factor, 1).clamp_min(1e-12)[None, :]


def mutual_information_gap(latents: torch.Tensor, factors: torch.Tensor, bins: int = 20) -> tuple[float, torch.Tensor]:
    """MIG (Chen et al. 2018, "Isolating sources of disentanglement in VAEs"), with the binned MI
    estimate of :func:`factor_mutual_information` (as in disentanglement_lib: 20 bins per unit).

    For each factor: (MI of the best unit - MI of the second best) / H(factor); MIG is their mean.
    1 = each factor lives in one unit alone; 0 = every factor is shared by at least two units equally
    (or known by none).

    Args:
        latents: (N, D) codes, D >= 2 (e.g. posterior means).
        factors: (N, K) integer factor levels.
    Returns:
        (MIG, (K,) gap per factor).
    """
    if latents.shape[1] < 2:
        raise ValueError("MIG needs at least 2 latent units (a gap between the best two)")
    scores = factor_mutual_information(latents, factors, bins=bins, normalise=True)  # (D, K)
    top2 = scores.topk(2, dim=0).values  # (2, K)
    gap = (top2[0] - top2[1]).cpu()
    return float(gap.mean()), gap


def loss_fluctuation(values: torch.Tensor, window: int = 25) -> float:
    """How erratic a loss curve is: std of its residual around a centred moving average,
    divided by the mean of that moving average (a coefficient of variation around the trend).

    Args:
        values: (T,) per-step losses, T > window.
        window: moving-average width in steps.
    """
    values = values.detach().float().flatten().cpu()
    if values.numel() <= window:
        raise ValueError(f"need more than window={window} values, got {values.numel()}")
    trend = values.unfold(0, window, 1).mean(1)  # (T - window + 1,)
    return (_detrended(values, window).std() / trend.abs().mean().clamp_min(1e-12)).item()


def _detrended(values: torch.Tensor, window: int) -> torch.Tensor:
    """Residual of a 1-D series around its centred moving average: (T - window + 1,)."""
    trend = values.unfold(0, window, 1).mean(1)
    return values[window // 2: window // 2 + trend.numel()] - trend


def fluctuation_explained_by(values: torch.Tensor, covariate: torch.Tensor, window: int = 25) -> float:
    """Share of a loss curve's step-to-step wiggle that a per-step covariate explains.

    Both series are detrended by a centred moving average; the result is their squared
    Pearson correlation (R^2 of a linear fit), e.g. of the per-batch reconstruction loss on the
    batch's mean sprite area.

    Args:
        values, covariate: (T,) per-step series, T > window.
    """
    v = values.detach().double().flatten().cpu()
    c = covariate.detach().double().flatten().cpu()
    if v.shape != c.shape or v.numel() <= window:
        raise ValueError(f"need two series of equal length > window={window}; got {v.numel()} and {c.numel()}")
    a, b = _detrended(v, window), _detrended(c, window)
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) ** 2 / ((a @ a) * (b @ b)).clamp_min(1e-30))
