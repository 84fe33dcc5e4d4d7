"""Plots for hashing heads: slots as images, slots per class, the new-slots curve, accuracy
matrices over tasks, and out-of-distribution score histograms. Each returns its figure."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def _to_image(x: torch.Tensor, signed: bool | None = None) -> np.ndarray:
    """(C, H, W) -> (H, W) or (H, W, 3) in [0, 1] per image: min-max, or symmetric about 0 if signed.

    ``signed=None`` decides from the data (any negative value: signed).
    """
    x = x.detach().float().cpu()
    if signed if signed is not None else bool(x.min() < 0):  # gradients: 0 maps to mid-grey
        x = 0.5 + 0.5 * x / x.abs().max().clamp_min(1e-12)
    else:
        x = (x - x.min()) / (x.max() - x.min()).clamp_min(1e-12)
    return x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).numpy()


def plot_class_grid(images: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str], per_class: int = 8,
                    title: str = "", cmap: str = "gray", signed: bool | None = None) -> plt.Figure:
    """Up to ``per_class`` images of each class in one row per class (empty cells left blank).

    Args:
        images: (K, C, H, W) e.g. slot weights reshaped to images, or slot gradients.
        labels: (K,) class of each image (rows keep the given order within a class).
        class_names: names of the C classes (row labels).
        signed: show 0 as mid-grey (gradients) instead of min-max scaling; None: if any value < 0.
    """
    n_rows = len(class_names)
    fig, axes = plt.subplots(n_rows, per_class, figsize=(per_class * 0.9, n_rows * 0.95), squeeze=False)
    for r in range(n_rows):
        idx = (labels == r).nonzero().flatten()[:per_class].tolist()
        for c in range(per_class):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if c < len(idx):
                ax.imshow(_to_image(images[idx[c]], signed), cmap=cmap)
        axes[r, 0].set_ylabel(class_names[r], rotation=0, ha="right", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_slots_per_class(counts: dict[str, torch.Tensor], class_names: Sequence[str], title: str = "slots per class") -> plt.Figure:
    """Grouped bars: slots of each class for several heads (name -> (C,) counts)."""
    fig, ax = plt.subplots(figsize=(max(6, len(class_names) * 0.8), 3.2))
    width = 0.8 / max(len(counts), 1)
    x = np.arange(len(class_names))
    for i, (name, c) in enumerate(counts.items()):
        c = c.detach().cpu().numpy()
        ax.bar(x + (i - (len(counts) - 1) / 2) * width, c, width, label=f"{name} ({int(c.sum())})")
    ax.set_xticks(x, class_names)
    ax.set_ylabel("slots")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_update_curves(curves: dict[str, torch.Tensor], targets: Sequence[float] = (), title: str = "") -> plt.Figure:
    """Accuracy against new slots added in greedy order (name -> (K+1,) accuracies)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, curve in curves.items():
        ax.plot(np.arange(curve.shape[0]), curve.cpu().numpy(), label=name)
    for t in targets:
        ax.axhline(t, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("new slots added (greedy set-cover order)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_accuracy_matrices(matrices: dict[str, torch.Tensor], task_names: Sequence[str], title: str = "",
                           ncols: int | None = None) -> plt.Figure:
    """Heatmaps of accuracy[after task i, on task j] (name -> (T, T)), ``ncols`` per row (default: all)."""
    ncols = len(matrices) if ncols is None else ncols
    nrows = -(-len(matrices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.flat[len(matrices):]:
        ax.axis("off")
    for ax, (name, m) in zip(axes.flat, matrices.items()):
        m = m.detach().cpu().numpy()
        shown = np.where(np.tril(np.ones_like(m)) > 0, m, np.nan)  # tasks not yet trained: blank
        ax.imshow(shown, vmin=0, vmax=1, cmap="viridis")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if j <= i:
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if m[i, j] < 0.6 else "black")
        ax.set_xticks(range(len(task_names)), task_names, fontsize=7)
        ax.set_yticks(range(len(task_names)), task_names, fontsize=7)
        ax.set_xlabel("evaluated on task")
        ax.set_ylabel("after training task")
        ax.set_title(f"{name}\nfinal mean {m[-1].mean():.3f}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ood_scores(in_distribution: torch.Tensor, out_of_distribution: dict[str, torch.Tensor], aurocs: dict[str, float] | None = None,
                    xlabel: str = "best margin: max over slots of (score - threshold)", title: str = "") -> plt.Figure:
    """Histograms of an in-distribution score (matched where > 0) for test data and OOD sets."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    everything = torch.cat([in_distribution, *out_of_distribution.values()]).cpu()
    bins = np.linspace(everything.min().item(), everything.max().item(), 60)
    ax.hist(in_distribution.cpu().numpy(), bins, alpha=0.6, density=True, label="in distribution (test)")
    for name, s in out_of_distribution.items():
        extra = f", AUROC {aurocs[name]:.3f}" if aurocs and name in aurocs else ""
        ax.hist(s.cpu().numpy(), bins, alpha=0.5, density=True, label=f"{name}{extra}")
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.text(0, ax.get_ylim()[1] * 0.95, " matched ->", fontsize=8, va="top")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
