"""Plots of captured activations. Every function takes tensors and returns a Figure.

Activations are (N, C, *spatial) as in :mod:`nblib.inspect.stats`; functions that draw
one sample take ``sample`` (default 0).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .stats import DEFAULT_EPS, channel_stats, spatial_similarity, summarize


def _maps(x: torch.Tensor, sample: int | None) -> torch.Tensor:
    """One sample (sample=int) or the mean over samples (None) as (C, H, W) float on CPU."""
    x = x.detach().float().cpu()
    if x.dim() < 2:
        raise ValueError(f"expected (N, C, ...) activations, got shape {tuple(x.shape)}")
    a = x.mean(0) if sample is None else x[sample]
    if a.dim() == 1:  # (C,) -> (C, 1, 1)
        a = a[:, None, None]
    elif a.dim() == 2:  # (C, L) -> (C, 1, L)
        a = a[:, None, :]
    elif a.dim() > 3:  # (C, D, H, W) -> average extra dims
        a = a.flatten(1, -3).mean(1)
    return a


def plot_feature_maps(
    x: torch.Tensor,
    channels: Sequence[int] | range | None = None,
    sample: int = 0,
    ncols: int = 8,
    title: str = "",
    shared_scale: bool = True,
    cmap: str = "viridis",
):
    """Grid of channel maps of one sample.

    With ``shared_scale`` every panel uses one colour range, so dead or weak channels
    look dark next to strong ones (per-panel scaling would hide that).
    """
    a = _maps(x, sample)
    channels = list(channels) if channels is not None else list(range(min(a.shape[0], 32)))
    bad = [c for c in channels if not 0 <= c < a.shape[0]]
    if bad:
        raise IndexError(f"channels {bad} out of range: the layer has {a.shape[0]} channels")
    nrows = max(1, math.ceil(len(channels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.6 * nrows + 0.4), squeeze=False)
    vmin, vmax = (a[channels].min().item(), a[channels].max().item()) if shared_scale else (None, None)
    im = None
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, channels):
        im = ax.imshow(a[c].numpy(), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"ch {c}", fontsize=8)
    if shared_scale and im is not None:
        fig.colorbar(im, ax=axes, shrink=0.6, label="activation")
    fig.suptitle(title or f"feature maps, sample {sample}")
    return fig


def plot_distribution(x: torch.Tensor, name: str = "", bins: int = 100, n_box_channels: int = 16, max_values: int = 200_000):
    """Histogram (log counts), per-channel box plots and the cumulative distribution."""
    x = x.detach().float().cpu()
    flat = x.flatten()
    if flat.numel() > max_values:  # a strided subsample keeps plotting fast on big layers
        flat = flat[:: math.ceil(flat.numel() / max_values)]
    fig, (h, b, c) = plt.subplots(1, 3, figsize=(15, 3.8))
    h.hist(flat.numpy(), bins=bins, color="tab:blue", log=True)
    h.set(title="histogram", xlabel="activation", ylabel="count (log)")
    per_channel = x.transpose(0, 1).reshape(x.shape[1], -1)[:n_box_channels]
    step = max(1, math.ceil(per_channel.shape[1] / 5000))
    b.boxplot([v[::step].numpy() for v in per_channel], showfliers=False)
    b.set(title=f"first {per_channel.shape[0]} channels", xlabel="channel", ylabel="activation")
    b.tick_params(axis="x", labelsize=7)
    s = flat.sort().values.numpy()
    c.plot(s, np.linspace(0, 1, s.size))
    c.set(title="cumulative distribution", xlabel="activation", ylabel="fraction <= value")
    c.grid(alpha=0.3)
    fig.suptitle(f"{name}: activation distribution")
    fig.tight_layout()
    return fig


def plot_channel_stats(x: torch.Tensor, name: str = "", eps: float = DEFAULT_EPS):
    """Per-channel means, stds, maxima and sparsity; dead channels drawn in red."""
    cs = {k: v.cpu() for k, v in channel_stats(x, eps).items()}
    colors = np.where(cs["dead"].numpy(), "tab:red", "tab:blue")
    idx = np.arange(cs["mean"].numel())
    fig, axes = plt.subplots(2, 2, figsize=(13, 6), sharex=True)
    for ax, key, label in zip(axes.flat, ("mean", "std", "max", "sparsity"),
                              ("mean", "std", "maximum", f"sparsity (|a| <= {eps:g})")):
        # one LineCollection instead of C bar patches: fast for 512+ channels
        ax.vlines(idx, 0, cs[key].numpy(), colors=colors, linewidth=max(0.6, min(4.0, 400 / idx.size)))
        ax.set(title=f"channel {label}", ylabel=label)
    for ax in axes[1]:
        ax.set_xlabel("channel")
    fig.suptitle(f"{name}: per-channel statistics ({int(cs['dead'].sum())} of {idx.size} channels dead, red)")
    fig.tight_layout()
    return fig


def plot_spatial_patterns(x: torch.Tensor, name: str = "", eps: float = DEFAULT_EPS):
    """Where the layer is active: mean, std and max over channels and samples, and active fraction."""
    x = x.detach().float().cpu()
    if x.dim() < 3:
        raise ValueError(f"{name}: spatial patterns need (N, C, H, W) or (N, C, L), got {tuple(x.shape)}")
    a = x if x.dim() == 4 else x.flatten(2)[:, :, None, :]  # (N, C, H, W)
    panels = {
        "mean": a.mean((0, 1)),
        "std over channels": a.std(1).mean(0),
        "max": a.amax((0, 1)),
        f"fraction |a| > {eps:g}": (a.abs() > eps).float().mean((0, 1)),
    }
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), layout="constrained")
    for ax, (title, m) in zip(axes, panels.items()):
        im = ax.imshow(m.numpy(), cmap="magma", interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"{name}: spatial patterns (over {x.shape[0]} samples, {x.shape[1]} channels)")
    return fig


def plot_spatial_similarity(x: torch.Tensor, name: str = "", sample: int = 0, max_positions: int = 1024):
    """Cosine similarity between the feature vectors of every pair of positions of one sample."""
    sim = spatial_similarity(x[sample], max_positions).cpu()
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    im = ax.imshow(sim.numpy(), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="cosine similarity")
    ax.set(title=f"{name}: spatial similarity (sample {sample}, {sim.shape[0]} positions)",
           xlabel="position (row-major)", ylabel="position")
    return fig


def plot_layer_comparison(activations: Mapping[str, torch.Tensor] | None = None, summary=None, eps: float = DEFAULT_EPS):
    """Bars of each layer's summary numbers (mean, std, sparsity, dead fraction, entropy, diversity)."""
    df = summary if summary is not None else summarize(activations, eps)
    panels = [
        ("mean", "mean activation", None),
        ("std", "std", None),
        ("sparsity", "sparsity", "sparsity_std"),
        ("dead_fraction", "dead channels (fraction)", None),
        ("channel_entropy", "channel entropy (bits)", "channel_entropy_std"),
        ("spatial_diversity", "spatial diversity", "spatial_diversity_std"),
    ]
    df = df.assign(dead_fraction=df["dead_channels"] / df["channels"])
    fig, axes = plt.subplots(2, 3, figsize=(15, 6.5))
    for ax, (key, title, err) in zip(axes.flat, panels):
        ax.bar(df.index, df[key], yerr=df[err] if err else None, color="tab:blue", capsize=3)
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.suptitle("layer comparison")
    fig.tight_layout()
    return fig


def plot_model_comparison(a: torch.Tensor, b: torch.Tensor, name: str = "", labels=("A", "B"), sample: int | None = None):
    """Mean maps of one layer in two models or checkpoints, their difference and value histograms.

    Args:
        a, b: the same layer's activations (N, C, *spatial) on the same inputs.
        sample: one sample, or None to average over samples.
    """
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"{name}: shapes differ {tuple(a.shape)} vs {tuple(b.shape)}")
    ma, mb = _maps(a, sample).mean(0), _maps(b, sample).mean(0)  # (H, W) channel means
    diff = mb - ma
    lim = diff.abs().max().item() or 1.0
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8), layout="constrained")
    vmin, vmax = min(ma.min(), mb.min()).item(), max(ma.max(), mb.max()).item()
    for ax, m, lab in ((axes[0], ma, labels[0]), (axes[1], mb, labels[1])):
        im = ax.imshow(m.numpy(), cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"{lab}: mean map")
        ax.axis("off")
    fig.colorbar(im, ax=axes[1], shrink=0.8)
    im = axes[2].imshow(diff.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    axes[2].set_title(f"{labels[1]} - {labels[0]}")
    axes[2].axis("off")
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    for t, lab in ((a, labels[0]), (b, labels[1])):
        v = t.detach().float().cpu().flatten()
        v = v[:: max(1, v.numel() // 100_000)]
        axes[3].hist(v.numpy(), bins=80, alpha=0.55, label=lab, log=True)
    axes[3].legend()
    axes[3].set(title="value histograms", xlabel="activation")
    fig.suptitle(f"{name}: {labels[0]} vs {labels[1]}")
    return fig


VERDICT_COLOURS = {"ok": "tab:green", "low": "tab:orange", "high": "tab:orange", "critical": "tab:red", "n/a": "tab:gray"}


def plot_report(report, metrics: Sequence[str] | None = None, title: str = ""):
    """Per-layer bars of each metric (error bars: std over samples), coloured by verdict,
    with the threshold's ok range shaded green and its critical region red."""
    from .report import METRICS

    metrics = METRICS if metrics is None else metrics
    t = report.table
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.6), squeeze=False)
    labels = [str(i) for i in t.index]
    for ax, key in zip(axes[0], metrics):
        err = t[f"{key}_std"] if f"{key}_std" in t else None
        ax.bar(labels, t[key], yerr=err, capsize=3, color=[VERDICT_COLOURS[v] for v in t[f"{key}_verdict"]])
        th = report.thresholds.get(key) if report.profile != "relative_to_init" else None
        values = t[key].astype(float).fillna(0.0)
        top = max(float(values.max()) * 1.2, 0.05)
        bottom = min(float(values.min()) * 1.2, 0.0)
        if th is not None:
            top = max(top, th.ok[0] * 1.15 if math.isfinite(th.ok[0]) else top)
            if th.critical_above is not None:
                top = max(top, th.critical_above * 1.1)
            ax.axhspan(max(th.ok[0], bottom), min(th.ok[1], top), color="tab:green", alpha=0.08)
            if th.critical_above is not None:
                ax.axhspan(th.critical_above, top, color="tab:red", alpha=0.06)
            if th.critical_below is not None:
                ax.axhspan(bottom, th.critical_below, color="tab:red", alpha=0.06)
        ax.set_ylim(bottom, top)
        ax.set_title(key.replace("_", " "))
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    bands = "green band: ok range; red: critical; " if report.profile != "relative_to_init" else ""
    fig.suptitle(title or f"feature report, profile {report.profile} ({bands}bar colour: verdict)")
    fig.tight_layout()
    return fig
