"""Slot diagnostics for object-centric models: attention shares, slot usage, reconstruction accuracy, plots.

Attention (or decoder alpha) masks are (N, K, *spatial): K slots, summing to 1 over K at each
position (Slot Attention normalises over slots). ``mask`` (N, *spatial) marks the positions that
exist (an ARC grid's cells); positions outside it are ignored.

Slot usage: the number of slots that hold at least ``threshold`` of an image's attention, where a
slot's share is its attention summed over the image's valid positions divided by the number of
those positions (shares sum to 1 over slots). The default threshold, 5%, is about a third of a
uniform share with 7 slots: a slot below it covers less than 1 cell in 20.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

DEFAULT_USAGE_THRESHOLD = 0.05

#: The ARC task viewer's 10 colours (0 black ... 9 maroon).
ARC_PALETTE = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
               "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
ARC_CMAP = ListedColormap(ARC_PALETTE, name="arc")


def _valid(masks: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(N, P) float weights of valid positions."""
    n = masks.shape[0]
    if mask is None:
        return torch.ones(n, masks[0, 0].numel(), device=masks.device)
    if mask.shape != (n, *masks.shape[2:]):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match masks {tuple(masks.shape)}: "
                         "expected (N, *spatial)")
    return mask.reshape(n, -1).to(masks.device).float()


def attention_shares(masks: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(N, K) share of each image's attention held by each slot (rows sum to 1 for slot-normalised masks).

    Args:
        masks: (N, K, *spatial) attention or alpha masks.
        mask: optional (N, *spatial) bool valid positions.
    """
    if masks.dim() < 3:
        raise ValueError(f"masks of shape {tuple(masks.shape)}: expected (N, K, *spatial)")
    w = _valid(masks, mask)  # (N, P)
    per_slot = (masks.flatten(2).float() * w[:, None]).sum(-1)  # (N, K)
    return per_slot / w.sum(1, keepdim=True).clamp_min(1)


def slot_usage(masks: torch.Tensor, mask: torch.Tensor | None = None,
               threshold: float = DEFAULT_USAGE_THRESHOLD) -> torch.Tensor:
    """(N,) int64: slots holding at least ``threshold`` of each image's attention."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold is a share of the attention in (0, 1], got {threshold}")
    return (attention_shares(masks, mask) >= threshold).sum(1)


def cell_accuracy(scores: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(N,) fraction of valid cells whose arg-max class is the target.

    Args:
        scores: (N, C, *spatial) logits, probabilities or log-probabilities.
        target: (N, *spatial) int64 classes.
        mask: optional (N, *spatial) bool valid cells (padding is never counted).
    """
    if scores.shape[0] != target.shape[0] or scores.shape[2:] != target.shape[1:]:
        raise ValueError(f"scores {tuple(scores.shape)} and target {tuple(target.shape)}: expected (N, C, *S) and (N, *S)")
    hit = (scores.argmax(1) == target).flatten(1).float()  # (N, P)
    w = torch.ones_like(hit) if mask is None else mask.reshape(hit.shape).float()
    return (hit * w).sum(1) / w.sum(1).clamp_min(1)


def grid_image(colours: torch.Tensor, mask: torch.Tensor | None = None, palette: Sequence[str] = ARC_PALETTE,
               outside: str = "#2b2b2b") -> np.ndarray:
    """(H, W, 3) RGB array of one colour-index grid; cells outside ``mask`` drawn in ``outside``."""
    from matplotlib.colors import to_rgb

    lut = np.array([to_rgb(c) for c in palette] + [to_rgb(outside)])
    idx = colours.detach().cpu().long().numpy().copy()
    if mask is not None:
        idx[~mask.detach().cpu().numpy()] = len(palette)
    return lut[idx]


def _extent(mask: torch.Tensor | None, shape) -> tuple[int, int]:
    if mask is None:
        return shape[-2], shape[-1]
    m = mask.detach().cpu()
    return max(int(m.any(1).sum()), 1), max(int(m.any(0).sum()), 1)


def plot_slot_masks(masks: torch.Tensor, samples: Sequence[int] = (0,), colours: torch.Tensor | None = None,
                    reconstruction: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                    threshold: float = DEFAULT_USAGE_THRESHOLD, title: str = ""):
    """One row per sample: the input grid, its reconstruction and each slot's mask (0..1 scale).

    Args:
        masks: (N, K, H, W) attention or alpha masks.
        samples: which samples (rows).
        colours, reconstruction: optional (N, H, W) colour indices (drawn with the ARC palette).
        mask: optional (N, H, W) valid cells; panels are cropped to the grid.
    Each slot panel is titled with its share of the image's attention; slots at or above
    ``threshold`` (counted as used) get a bold title.
    """
    if masks.dim() != 4:
        raise ValueError(f"masks of shape {tuple(masks.shape)}: expected (N, K, H, W)")
    bad = [s for s in samples if not 0 <= s < masks.shape[0]]
    if bad:
        raise IndexError(f"samples {bad} out of range for {masks.shape[0]} masks")
    k = masks.shape[1]
    shares = attention_shares(masks, mask).cpu()
    lead = [x for x in (colours, reconstruction) if x is not None]
    ncols = len(lead) + k
    fig, axes = plt.subplots(len(samples), ncols, figsize=(1.45 * ncols, 1.55 * len(samples) + 0.5), squeeze=False)
    for row, s in enumerate(samples):
        m = mask[s] if mask is not None else None
        h, w = _extent(m, masks.shape)
        col = 0
        for name, grid in (("input", colours), ("reconstruction", reconstruction)):
            if grid is not None:
                axes[row, col].imshow(grid_image(grid[s], m)[:h, :w], interpolation="nearest")
                axes[row, col].set_title(name if row == 0 else "", fontsize=8)
                col += 1
        for j in range(k):
            ax = axes[row, col + j]
            panel = masks[s, j].detach().float().cpu()
            if m is not None:
                panel = panel * m.cpu()
            ax.imshow(panel[:h, :w].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            used = shares[s, j] >= threshold
            ax.set_title(f"slot {j}: {shares[s, j]:.0%}", fontsize=7, fontweight="bold" if used else "normal")
        axes[row, 0].set_ylabel(f"grid {s}", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    used = (shares[list(samples)] >= threshold).sum(1).tolist()
    fig.suptitle(title or f"slot masks (share of attention; bold: >= {threshold:.0%}, counted as used); used: {used}",
                 fontsize=9)
    fig.tight_layout()
    return fig
