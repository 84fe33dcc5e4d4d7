"""Slot metrics that tell slots that bind objects from attention spread evenly over slots.

The share-threshold count of :func:`nblib.inspect.slots.slot_usage` calls a slot "used" when it
holds >= 5% of an image's attention, so perfectly uniform attention (each of 7 slots holds 1/7)
counts as 7 used slots. The metrics here look at each cell instead:

- :func:`attention_entropy`: per-cell entropy of the attention over slots (nats), averaged over
  a grid's valid cells. Uniform attention gives ``ln K``; a cell owned by one slot gives 0.
- :func:`winning_slots`: the number of slots that are the arg-max at >= 1 valid cell. Uniform
  attention gives 1 (every tie goes to slot 0).
- :func:`arc_objects` and :func:`fg_ari`: the object-discovery metric of the Slot Attention paper
  (Locatello et al. 2020, after Greff et al. 2019): the adjusted Rand index between the arg-max
  slot segmentation and the ground-truth objects, over foreground cells only. ARC objects are
  connected components of same-coloured non-background cells.

Shapes: N grids, K slots, (H, W) canvas; ``mask`` (N, H, W) bool marks the cells that exist.
"""
from __future__ import annotations

import math

import torch


def _check(masks: torch.Tensor, mask: torch.Tensor) -> None:
    if masks.dim() != 4 or mask.shape != (masks.shape[0], *masks.shape[2:]):
        raise ValueError(f"masks {tuple(masks.shape)} and mask {tuple(mask.shape)}: expected (N, K, H, W) and (N, H, W)")


def attention_entropy(masks: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N,) mean over each grid's valid cells of the entropy (nats) of the attention over slots.

    Args:
        masks: (N, K, H, W) attention or alpha masks, summing to 1 over K at valid cells.
        mask: (N, H, W) bool valid cells.
    0 when every cell belongs to one slot; ``ln K`` for uniform attention.
    """
    _check(masks, mask)
    p = masks.float().clamp_min(0)
    h = -(p * p.clamp_min(1e-12).log()).sum(1)  # (N, H, W) nats
    w = mask.float()
    return (h * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp_min(1)


def winning_slots(masks: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N,) int64: slots that are the arg-max over slots at one or more valid cells (ties: lowest index).

    Args: masks (N, K, H, W), mask (N, H, W) bool.
    """
    _check(masks, mask)
    k = masks.shape[1]
    winner = masks.argmax(1)  # (N, H, W)
    hot = torch.nn.functional.one_hot(winner, k).bool() & mask[..., None]  # (N, H, W, K)
    return hot.flatten(1, 2).any(1).sum(1)


def _neighbours(labels: torch.Tensor, fill: int, connectivity: int) -> list[torch.Tensor]:
    """Shifted copies of (N, H, W) ``labels`` (padding ``fill``): the 4 or 8 neighbours of every cell."""
    padded = torch.nn.functional.pad(labels, (1, 1, 1, 1), value=fill)  # (N, H+2, W+2)
    h, w = labels.shape[-2:]
    offsets = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        offsets += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    return [padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in offsets]


def arc_objects(colours: torch.Tensor, mask: torch.Tensor, background: int | None = 0,
                connectivity: int = 4) -> torch.Tensor:
    """(N, H, W) int64 object labels: 0 for background and cells outside the grid, 1..n_i per grid.

    An object is a connected component of cells of one colour that is not the background.

    Args:
        colours: (N, H, W) int64 colour indices.
        mask: (N, H, W) bool valid cells.
        background: the background colour (ARC's black, 0, by default); None: each grid's most
            common colour.
        connectivity: 4 (edge neighbours, default) or 8 (edges and corners).
    Vectorised label propagation: every foreground cell starts with its own index and takes the
    minimum over its same-coloured neighbours until nothing changes; then labels are renumbered
    1..n per grid in order of first appearance (row-major).
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    if colours.shape != mask.shape or colours.dim() != 3:
        raise ValueError(f"colours {tuple(colours.shape)} and mask {tuple(mask.shape)}: expected (N, H, W) each")
    n, h, w = colours.shape
    if background is None:
        counts = torch.nn.functional.one_hot(colours.long(), 10 if colours.max() < 10 else int(colours.max()) + 1)
        counts = (counts * mask[..., None]).flatten(1, 2).sum(1)  # (N, colours)
        bg = counts.argmax(1)[:, None, None]  # (N, 1, 1)
    else:
        bg = torch.full((n, 1, 1), background, device=colours.device, dtype=torch.long)
    fg = mask & (colours != bg)  # (N, H, W)
    big = h * w + 1
    index = torch.arange(1, h * w + 1, device=colours.device).view(1, h, w).expand(n, h, w)
    labels = torch.where(fg, index, torch.full_like(index, big))  # (N, H, W)
    colour_fg = torch.where(fg, colours.long(), torch.full_like(colours.long(), -1))  # -1: not foreground
    same = [c == colour_fg for c in _neighbours(colour_fg, -2, connectivity)]  # neighbour in the same object
    while True:
        new = labels
        for lab, ok in zip(_neighbours(labels, big, connectivity), same):
            new = torch.where(ok & fg, torch.minimum(new, lab), new)
        if torch.equal(new, labels):
            break
        labels = new
    labels = torch.where(fg, labels, torch.zeros_like(labels))
    # renumber 1..n per grid: rank of each root label among the grid's distinct roots
    flat = labels.flatten(1)  # (N, H*W)
    present = torch.zeros(n, big + 1, dtype=torch.long, device=colours.device)
    present.scatter_(1, flat, 1)
    present[:, 0] = 0
    rank = present.cumsum(1) * present  # (N, big+1): 1..n at the roots, 0 elsewhere
    return rank.gather(1, flat).view(n, h, w)


def _comb2(x: torch.Tensor) -> torch.Tensor:
    return x * (x - 1) / 2


def fg_ari(segments: torch.Tensor, objects: torch.Tensor, min_objects: int = 2) -> torch.Tensor:
    """(N,) foreground adjusted Rand index between a predicted segmentation and the objects.

    Args:
        segments: (N, H, W) int64 predicted segment per cell (e.g. the arg-max slot).
        objects: (N, H, W) int64 ground-truth objects, 0 = background or outside the grid
            (:func:`arc_objects`); only cells with ``objects > 0`` count.
        min_objects: grids with fewer objects get NaN (with one object every segmentation that
            splits it scores 0 and one that does not scores 1: the index says nothing about
            binding; with no foreground it is undefined). Average with ``nanmean``.
    Same value as ``sklearn.metrics.adjusted_rand_score`` on each grid's foreground cells,
    including its convention of 1.0 when both partitions are identical and trivial.
    """
    if segments.shape != objects.shape or segments.dim() != 3:
        raise ValueError(f"segments {tuple(segments.shape)} and objects {tuple(objects.shape)}: expected (N, H, W) each")
    n = segments.shape[0]
    seg = segments.flatten(1).long()  # (N, P)
    obj = objects.flatten(1).long()  # (N, P)
    fg = (obj > 0).double()
    k, j = int(seg.max()) + 1, int(obj.max()) + 1
    out = torch.full((n,), math.nan, dtype=torch.float64, device=segments.device)
    for start in range(0, n, 64):  # chunks bound the (chunk, k * j) tables
        s, o, f = seg[start:start + 64], obj[start:start + 64], fg[start:start + 64]
        table = torch.zeros(s.shape[0], k * j, dtype=torch.float64, device=segments.device)
        table = table.scatter_add_(1, s * j + o, f).view(-1, k, j)  # (b, k, j) contingency over foreground cells
        total = table.sum((1, 2))
        index = _comb2(table).sum((1, 2))
        rows, cols = _comb2(table.sum(2)).sum(1), _comb2(table.sum(1)).sum(1)
        expected = rows * cols / _comb2(total).clamp_min(1)
        top = (rows + cols) / 2
        denom = top - expected
        ari = torch.where(denom.abs() > 1e-12, (index - expected) / denom.where(denom.abs() > 1e-12, torch.ones_like(denom)),
                          torch.ones_like(denom))
        n_objects = (table.sum(1) > 0).sum(1)  # (b,)
        out[start:start + 64] = torch.where(n_objects >= min_objects, ari, torch.full_like(ari, math.nan))
    return out.float()
