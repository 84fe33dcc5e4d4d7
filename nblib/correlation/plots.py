"""Plots of layer correlations, CKA and augmentation spread."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .core import feature_order


def _heat(ax, m: torch.Tensor, vmin=-1.0, vmax=1.0, cmap="RdBu_r"):
    cmap = plt.get_cmap(cmap).copy()
    cmap.set_bad("0.85")  # undefined (constant-feature) entries in grey
    return ax.imshow(np.ma.masked_invalid(m.detach().float().cpu().numpy()), cmap=cmap, vmin=vmin, vmax=vmax,
                     interpolation="nearest", aspect="auto")


def plot_layer_correlations(corrs: Mapping[tuple[str, str], torch.Tensor], names: Sequence[str] | None = None,
                            title: str = "", order: bool = True):
    """The matrix of matrices: panel (i, j), i <= j, is the feature x feature correlation of layers i and j.

    With ``order`` every layer's features are sorted by :func:`feature_order` of its own
    correlation matrix (the same order in every panel that shows that layer), so groups of
    correlated features show up as blocks.
    """
    names = list(names or dict.fromkeys(a for a, _ in corrs))
    perm = {n: feature_order(corrs[(n, n)]) if order and (n, n) in corrs else None for n in names}
    n = len(names)
    fig, axes = plt.subplots(n, n, figsize=(2.6 * n, 2.6 * n), squeeze=False, layout="constrained")
    im = None
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if j < i or (a, b) not in corrs:
                ax.axis("off")
                continue
            m = corrs[(a, b)]
            if perm[a] is not None:
                m = m[perm[a].to(m.device)][:, perm[b].to(m.device)]
            im = _heat(ax, m)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(b, fontsize=9)
            if j == i:
                ax.set_ylabel(a, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.5, label="Pearson r")
    fig.suptitle(title or "layer feature correlation (row layer i, column layer j >= i)")
    return fig


def plot_correlation_heatmap(corr: torch.Tensor, title: str = "", xlabel: str = "", ylabel: str = "", order: bool = False):
    """One correlation matrix; ``order`` (square matrices) sorts rows and columns by :func:`feature_order`."""
    if order:
        p = feature_order(corr).to(corr.device)
        corr = corr[p][:, p]
    fig, ax = plt.subplots(figsize=(5.2, 4.5))
    im = _heat(ax, corr)
    fig.colorbar(im, ax=ax, label="Pearson r")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def plot_correlation_evolution(frame, title: str = "mean |correlation| per layer pair over training"):
    """Lines of each pair's mean |r| against epoch (``frame``: JsonHistory.frame(), columns 'a|b')."""
    cols = [c for c in frame.columns if "|" in c]
    within = [c for c in cols if c.split("|")[0] == c.split("|")[1]]
    across = [c for c in cols if c not in within]
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True, layout="constrained")
    for ax, group, name in ((axes[0], within, "within a layer (off-diagonal)"), (axes[1], across, "between layers")):
        for c in group:
            ax.plot(frame.index, frame[c], marker="o", ms=3, label=c.replace("|", " / "))
        ax.set(title=name, xlabel="epoch (analysis at its start)", ylabel="mean |r|")
        ax.legend(fontsize=7, ncol=2)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def plot_cka(matrix: torch.Tensor, names: Sequence[str], title: str = "linear CKA between layers"):
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    im = _heat(ax, matrix, vmin=0, vmax=1, cmap="viridis")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45)
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(im, ax=ax)
    ax.set_title(title)
    return fig


def plot_views(views: torch.Tensor, n: int = 16, title: str = "augmented views"):
    """The first ``n`` of (N, C, H, W) views in a grid."""
    n = min(n, views.shape[0])
    cols = min(n, 8)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, v in zip(axes.flat, views[:n].detach().cpu()):
        ax.imshow(v.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
    fig.suptitle(title)
    return fig


def plot_augmentation_spread(spreads: Mapping[str, torch.Tensor], title: str = ""):
    """Box plot per layer of per-feature spread ratios (std over views / std over the dataset)."""
    names = list(spreads)
    data = [s[~s.isnan()].cpu().numpy() for s in spreads.values()]
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 3.6))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set(ylabel="std over views / std over dataset",
           title=title or "feature spread under augmentation (0: invariant, 1: as variable as the dataset)")
    return fig
