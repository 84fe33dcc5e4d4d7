"""Plots of gradient dynamics recorded by :class:`GradientTracker`."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

SIGN_COLOURS = ("white", "tab:red", "tab:green", "black")
SIGN_LABELS = ("|g| > low threshold", "small negative", "small positive", "exactly zero")

PANELS = (
    ("zero_grad_fraction", "zero gradients (fraction |g| < zero threshold)", False),
    ("released_fraction", "low-state components released", False),
    ("sign_flip_fraction", "sign flips (fraction of components)", False),
    ("weight_diff_norm", "|w_t - w_(t-1)|", True),
    ("minima_crossed", "coordinates crossing a minimum", True),
    ("zero_grad_move_norm", "move of zero-gradient weights (norm)", True),
)


def per_epoch(frame, steps_per_epoch: int):
    """Mean of each per-step column over the steps of each epoch (epoch = step // steps_per_epoch)."""
    return frame.groupby(frame.index // steps_per_epoch).mean()


def plot_dynamics(runs: Mapping[str, object], steps_per_epoch: int, smooth: int = 1):
    """The original's per-step plots for one or more runs (label -> ``tracker.frame()``).

    x axis in epochs; ``smooth`` > 1 draws a moving average over that many steps.
    """
    fig, axes = plt.subplots(2, 3, figsize=(16, 7), layout="constrained")
    for label, frame in runs.items():
        x = frame.index.to_numpy() / steps_per_epoch
        for ax, (col, title, logy) in zip(axes.flat, PANELS):
            y = frame[col]
            if smooth > 1:
                y = y.rolling(smooth, min_periods=1).mean()
            ax.plot(x, y.to_numpy(), label=label, lw=1)
            ax.set_title(title, fontsize=10)
            if logy:
                ax.set_yscale("symlog", linthresh=1e-3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    axes[0, 0].legend()
    fig.suptitle("gradient dynamics per step" + (f" (moving average over {smooth} steps)" if smooth > 1 else ""))
    return fig


def plot_layer_zero_grads(layer_frame, steps_per_epoch: int, layer_sizes: Mapping[str, int] | None = None, title: str = ""):
    """Zero-gradient fraction per layer over training (epoch means)."""
    ep = per_epoch(layer_frame, steps_per_epoch)
    if layer_sizes is not None:
        ep = ep / np.array([layer_sizes[c] for c in ep.columns])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ep.plot(ax=ax, marker="o", ms=3)
    ax.set(xlabel="epoch", ylabel="fraction of the layer's components" if layer_sizes else "count",
           title=title or "zero gradients per layer (epoch mean)")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_sign_heatmap(codes: torch.Tensor, row_labels, boundaries=(), zoom: tuple[int, int] | None = None, title: str = ""):
    """Rows: records (e.g. epochs); columns: gradient indices from the first to the last layer.

    White: |g| above the low threshold; red / green: small negative / positive; black: exactly 0.
    ``boundaries``: (layer, first, last) column ranges (``tracker.layer_boundaries()``);
    ``zoom``: (first, last) columns to show.
    """
    c = codes.numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    lo, hi = zoom if zoom is not None else (0, c.shape[1])
    fig, ax = plt.subplots(figsize=(15, 0.35 * c.shape[0] + 2))
    ax.imshow(c[:, lo:hi], cmap=ListedColormap(SIGN_COLOURS), vmin=-0.5, vmax=3.5, aspect="auto",
              interpolation="nearest", extent=(lo - 0.5, hi - 0.5, c.shape[0] - 0.5, -0.5))
    for name, first, last in boundaries:
        if last <= lo or first >= hi:
            continue
        ax.axvline(max(first, lo) - 0.5, color="0.4", lw=0.6)
        ax.text((max(first, lo) + min(last, hi)) / 2, -0.7, name, ha="center", va="bottom", fontsize=7, rotation=30)
    ax.set_yticks(range(c.shape[0]), list(row_labels))
    ax.set(xlabel="gradient index (sampled, first to last layer)", ylabel="record")
    ax.legend(handles=[Patch(facecolor=col, edgecolor="0.5", label=lab) for col, lab in zip(SIGN_COLOURS, SIGN_LABELS)],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title or ("layer-wise gradient signs" + (f", columns {lo}-{hi}" if zoom else "")), pad=28)
    return fig
