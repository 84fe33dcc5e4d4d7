"""Pictures of filters and gradients. Every function takes tensors and returns a Figure."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .gradients import to_rgb


def _image_grid(images: torch.Tensor, ncols: int, pad: int = 1, group: int | None = None,
                group_pad: int = 3, fill: float = 1.0) -> np.ndarray:
    """(N, 3, h, w) in [0, 1] -> one (H, W, 3) mosaic, row-major; an extra gap every ``group`` columns."""
    n, c, h, w = images.shape
    ncols = max(1, min(ncols, n))
    group = group if group and group < ncols else None
    cols = math.ceil(ncols / group) * group if group else ncols
    nrows = math.ceil(n / ncols)
    x = images.detach().float().cpu()
    x = torch.nn.functional.pad(x, (pad, 0, pad, 0), value=fill)  # (N, 3, h+p, w+p): gap on top/left
    hp, wp = h + pad, w + pad
    tiles = torch.full((nrows, cols, c, hp, wp), fill)
    idx = torch.arange(n)
    tiles[idx // ncols, idx % ncols] = x  # (R, cols, 3, hp, wp)
    rows = tiles.permute(0, 3, 1, 4, 2)  # (R, hp, cols, wp, 3)
    if group:
        rows = rows.reshape(nrows, hp, cols // group, group * wp, c)  # (R, hp, G, group*wp, 3)
        rows = torch.nn.functional.pad(rows, (0, 0, 0, group_pad), value=fill)  # (R, hp, G, group*wp+gp, 3)
    mosaic = rows.reshape(nrows * hp, -1, c)  # (R*hp, W, 3)
    mosaic = torch.nn.functional.pad(mosaic, (0, 0, 0, pad, 0, pad), value=fill)  # closing gap bottom/right
    return mosaic.numpy()


def plot_filter_grid(weight: torch.Tensor, ncols: int = 20, group: int | None = None, title: str = "",
                     mode: str = "minmax"):
    """First-layer filters as RGB image patches.

    Args:
        weight: (F, 3, kh, kw) filters (e.g. ``model.conv1.weight``).
        ncols: filters per row.
        group: leave a gap after every ``group`` columns (e.g. 5 parts of a prototype).
        mode: per-filter renormalisation, see :func:`~nblib.interpret.to_rgb`.
    """
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ValueError(f"expected (F, 3, kh, kw) filters, got shape {tuple(weight.shape)}")
    mosaic = _image_grid(to_rgb(weight, mode), ncols, group=group)
    nrows = math.ceil(weight.shape[0] / ncols)
    fig, ax = plt.subplots(figsize=(0.55 * ncols + 0.4, 0.55 * nrows + 0.6))
    ax.imshow(mosaic, interpolation="nearest")
    ax.axis("off")
    ax.set_title(title or f"{weight.shape[0]} filters {weight.shape[2]}x{weight.shape[3]} (each on its own scale)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_gradient_grid(images: torch.Tensor, grads: torch.Tensor, class_names: Sequence[str],
                       labels: torch.Tensor | None = None, predictions: torch.Tensor | None = None,
                       title: str = "", mode: str = "minmax"):
    """Images in the first row, below them the input gradient of each class logit.

    Args:
        images: (N, 3, H, W) in [0, 1] (see :func:`~nblib.interpret.cifar_denormalize`).
        grads: (N, K, 3, H, W) gradients (from :func:`~nblib.interpret.input_gradients`).
        class_names: K row names.
        labels, predictions: optional (N,) ints shown above the images (wrong predictions in red).
    """
    n, k = grads.shape[:2]
    if images.shape[0] != n or len(class_names) != k:
        raise ValueError(f"{images.shape[0]} images, {n} gradient rows, {len(class_names)} class names, {k} classes")
    rgb = to_rgb(grads, mode)  # (N, K, 3, H, W)
    fig, axes = plt.subplots(k + 1, n, figsize=(1.1 * n + 1.2, 1.15 * (k + 1) + 0.5), squeeze=False)
    for j in range(n):
        axes[0, j].imshow(images[j].detach().cpu().permute(1, 2, 0).numpy(), interpolation="nearest")
        if labels is not None:
            ok = predictions is None or int(predictions[j]) == int(labels[j])
            name = class_names[int(labels[j])] if int(labels[j]) < k else str(int(labels[j]))
            axes[0, j].set_title(name, fontsize=7, color="black" if ok else "red")
        for c in range(k):
            axes[c + 1, j].imshow(rgb[j, c].cpu().permute(1, 2, 0).numpy(), interpolation="nearest")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=8)
    for c, name in enumerate(class_names):
        axes[c + 1, 0].set_ylabel(f"d {name}", fontsize=8)
    fig.suptitle(title or "input gradients of class logits (each image on its own scale)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_unit_gradients(grads: torch.Tensor, ncols: int = 20, titles: Sequence[str] | None = None,
                        title: str = "", mode: str = "minmax", group: int | None = None):
    """A grid of gradient pictures, one per unit (e.g. noise gradients averaged over samples).

    Args:
        grads: (U, 3, H, W).
        titles: optional U short labels (drawn only for up to 40 panels).
    """
    if grads.dim() != 4 or grads.shape[1] != 3:
        raise ValueError(f"expected (U, 3, H, W) gradients, got shape {tuple(grads.shape)}")
    u = grads.shape[0]
    if titles is not None and u <= 40:
        nrows = math.ceil(u / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.0 * ncols, 1.15 * nrows + 0.4), squeeze=False)
        rgb = to_rgb(grads, mode)
        for ax in axes.flat:
            ax.axis("off")
        for i, ax in zip(range(u), axes.flat):
            ax.imshow(rgb[i].cpu().permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_title(titles[i], fontsize=7)
    else:
        mosaic = _image_grid(to_rgb(grads, mode), ncols, group=group)
        nrows = math.ceil(u / ncols)
        fig, ax = plt.subplots(figsize=(0.7 * ncols + 0.4, 0.7 * nrows + 0.6))
        ax.imshow(mosaic, interpolation="nearest")
        ax.axis("off")
    fig.suptitle(title or f"{u} unit gradients", fontsize=10)
    fig.tight_layout()
    return fig


def plot_interpretability_scores(scores: Mapping[str, Mapping[str, Sequence[float] | torch.Tensor]],
                                 title: str = ""):
    """Bars of gradient numbers per model: mean with the spread over units / images.

    Args:
        scores: metric name -> {model name -> values (per unit or per image)}.
    """
    metrics = list(scores)
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        names = list(scores[metric])
        vals = [torch.as_tensor(scores[metric][m], dtype=torch.float32) for m in names]
        means = [v.mean().item() for v in vals]
        q = [(v.mean() - v.quantile(0.25)).item() for v in vals], [(v.quantile(0.75) - v.mean()).item() for v in vals]
        err = np.clip(np.array(q), 0, None)
        ax.bar(range(len(names)), means, yerr=err, color="tab:blue", alpha=0.8, capsize=3)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_title(metric, fontsize=10)
        ax.axhline(0, color="black", lw=0.6)
    fig.suptitle(title or "mean (bars) and interquartile range (whiskers)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_accuracy_table(rows: Sequence[Mapping], title: str = ""):
    """Horizontal bars of test accuracy (mean +- std over seeds) per experiment row.

    Args:
        rows: dicts with "name", "mean", "std" (std may be nan for one seed) and optional "claim"
            (the research log's number, drawn as a red tick).
    """
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(rows) + 1.0))
    y = np.arange(len(rows))[::-1]
    means = [r["mean"] for r in rows]
    stds = [0.0 if r.get("std") is None or np.isnan(r["std"]) else r["std"] for r in rows]
    ax.barh(y, means, xerr=stds, color="tab:blue", alpha=0.75, capsize=3)
    for yi, r in zip(y, rows):
        if r.get("claim") is not None:
            ax.plot([r["claim"]] * 2, [yi - 0.4, yi + 0.4], color="red", lw=2)
        ax.text(r["mean"] + 0.003, yi, f"{r['mean']:.3f}", va="center", fontsize=7)
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=8)
    lo = min(min(means), min((r["claim"] for r in rows if r.get("claim") is not None), default=1.0))
    ax.set_xlim(max(0.0, lo - 0.08), 1.0)
    ax.set_xlabel("test accuracy (red: the research log's number)")
    ax.set_title(title or "test accuracy, mean +- std over seeds", fontsize=10)
    fig.tight_layout()
    return fig
