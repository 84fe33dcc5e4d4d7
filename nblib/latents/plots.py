"""Plots of VAE latent diagnostics. Every function takes tensors and returns a Figure."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .diagnostics import mu_histograms


def _as_images(x: torch.Tensor) -> torch.Tensor:
    """(n, D) flattened square images or (n, [1,] H, W) -> (n, H, W) float on the CPU."""
    x = x.detach().float().cpu()
    if x.dim() == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot unflatten {x.shape[1]} pixels into a square image; pass (n, H, W)")
        return x.view(-1, side, side)  # (n, H, W)
    if x.dim() == 4:
        return x[:, 0]
    return x


def plot_reconstruction_grid(originals: torch.Tensor, reconstructions: Mapping[str, torch.Tensor], n: int = 8,
                             title: str = ""):
    """Inputs in the first row, one row of reconstructions (pixel probabilities) per model.

    Args:
        originals: (N, H*W), (N, H, W) or (N, 1, H, W).
        reconstructions: row label -> the same shape as ``originals``.
        n: images (columns) shown.
    """
    rows = {"input": _as_images(originals)[:n], **{k: _as_images(v)[:n] for k, v in reconstructions.items()}}
    n = min(n, rows["input"].shape[0])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.2, 1.1 * len(rows) + 0.4), squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_kl_per_unit(kl_per_layer: Sequence[torch.Tensor], title: str = "KL per unit", layer_names=None):
    """KL of every unit over epochs, one panel per layer.

    Args:
        kl_per_layer: per layer an (E, D_l) tensor (``VAEHistory.kl_per_unit_layer``).
    """
    names = layer_names or [f"layer {l}" for l in range(len(kl_per_layer))]
    fig, axes = plt.subplots(1, len(kl_per_layer), figsize=(4.2 * len(kl_per_layer), 3), squeeze=False)
    for ax, kl, name in zip(axes[0], kl_per_layer, names):
        epochs = np.arange(1, kl.shape[0] + 1)
        ax.plot(epochs, kl.numpy(), marker=".")
        ax.set_yscale("symlog", linthresh=0.01)
        ax.axhline(0.01, color="grey", lw=0.5, ls=":")
        ax.set_xlabel("epoch")
        ax.set_ylabel("KL (nats)")
        ax.set_title(f"{name}: {kl.shape[1]} units")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mu_histograms(hist: torch.Tensor, edges: torch.Tensor, title: str = "posterior means per unit"):
    """Per-unit histograms of mu, epoch by epoch: one panel per unit, epochs down, mu across.

    Args:
        hist: (E, D, bins) counts (``VAEHistory.mu_hist_layer``).
        edges: (bins + 1,) bin edges.
    """
    e, d, _ = hist.shape
    ncols = min(d, 5)
    nrows = math.ceil(d / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.0 * nrows + 0.5), squeeze=False)
    frac = hist / hist.sum(2, keepdim=True).clamp_min(1)  # (E, D, bins)
    extent = (edges[0].item(), edges[-1].item(), e + 0.5, 0.5)
    for ax in axes.flat:
        ax.axis("off")
    for j, ax in enumerate(axes.flat[:d]):
        ax.axis("on")
        ax.imshow(frac[:, j].numpy(), aspect="auto", extent=extent, cmap="magma", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(f"unit {j}", fontsize=8)
        ax.set_xlabel("mu", fontsize=7)
        ax.set_ylabel("epoch", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_batch_mean_vs_histogram(batch_mean_mu: torch.Tensor, final_mu: torch.Tensor, title: str = "",
                                 steps_per_epoch: int | None = None):
    """The notes' plot next to what it hides.

    Left: the batch mean of every unit's mu per training step (what the notes logged).
    Right: the distribution of each unit's mu over inputs after training (a histogram drawn as a
    violin per unit, so a collapsed unit is a flat line at its value).

    Args:
        batch_mean_mu: (T, D) per-step batch means.
        final_mu: (N, D) posterior means over an evaluation set.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    steps = np.arange(batch_mean_mu.shape[0])
    x = steps / steps_per_epoch if steps_per_epoch else steps
    for j in range(batch_mean_mu.shape[1]):
        left.plot(x, batch_mean_mu[:, j].numpy(), lw=0.8, label=f"unit {j}")
    left.set_xlabel("epoch" if steps_per_epoch else "step")
    left.set_ylabel("batch mean of mu")
    left.set_title("what the notes plotted: mean of mu over the batch")
    left.legend(fontsize=6, ncol=2)
    lim = max(batch_mean_mu.abs().max().item(), final_mu.abs().max().item(), 1e-3) * 1.05
    left.set_ylim(-lim, lim)
    mu = final_mu.detach().float().cpu()
    edges = torch.linspace(-lim, lim, 61)
    counts = mu_histograms(mu, bins=60, value_range=(-lim, lim))  # (D, 60)
    width = 0.45 * counts / counts.max(1, keepdim=True).values.clamp_min(1)  # histogram as a violin
    centres = ((edges[:-1] + edges[1:]) / 2).numpy()
    for j in range(mu.shape[1]):
        right.fill_betweenx(centres, j - width[j].numpy(), j + width[j].numpy(), color=f"C{j % 10}", alpha=0.6, step="mid")
    right.axhline(0, color="grey", lw=0.5)
    right.set_ylim(-lim, lim)
    right.set_xlabel("unit")
    right.set_xticks(range(mu.shape[1]), [str(j) for j in range(mu.shape[1])])
    right.set_title("what it hides: mu over inputs, per unit")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_factor_scores(scores: torch.Tensor, unit_labels: Sequence[str], factor_names: Sequence[str],
                       title: str = "normalised mutual information", vmax: float = 1.0):
    """Heatmap of a (units x factors) score matrix with the values written in."""
    s = scores.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(1.1 * len(factor_names) + 2, 0.36 * len(unit_labels) + 1.2))
    im = ax.imshow(s, cmap="viridis", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(factor_names)), factor_names, rotation=30)
    ax.set_yticks(range(len(unit_labels)), unit_labels, fontsize=8)
    for (i, j), v in np.ndenumerate(s):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 * vmax else "black")
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: Mapping[str, torch.Tensor], steps_per_epoch: int, window: int = 25,
                     ylabel: str = "loss", title: str = "", logy: bool = False):
    """Per-step curves (thin) with a moving average (thick), x in epochs; one colour per run."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for i, (name, values) in enumerate(curves.items()):
        v = values.detach().float().cpu()
        x = np.arange(v.numel()) / steps_per_epoch
        colour = f"C{i % 10}"
        ax.plot(x, v.numpy(), color=colour, alpha=0.2, lw=0.5)
        if v.numel() > window:
            smooth = v.unfold(0, window, 1).mean(1)
            ax.plot(x[window - 1:], smooth.numpy(), color=colour, lw=1.5, label=name)
        else:
            ax.plot(x, v.numpy(), color=colour, lw=1.5, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
