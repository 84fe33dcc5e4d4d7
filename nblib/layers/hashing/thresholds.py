"""100%-precision thresholds of slots (class detectors) on a batch, and their running averages.

A slot with label c fires on an input when its score exceeds its threshold. The threshold that
makes the slot a detector of c with 100% precision on a batch is the highest score any example
of another class reaches: the slot then fires (score strictly above it) on examples of c only.
It is the lowest threshold with that property, so it keeps as many examples of c as possible.

Per-batch thresholds are exact on the batch they come from; the running average smooths them
over batches (what the layer uses at evaluation).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

#: Threshold of a slot that has seen no example of another class: the lowest cosine, so it fires
#: on everything (with a single class in view, everything is that class).
NO_NEGATIVES = -1.0


class BatchThresholds(NamedTuple):
    """Result of :func:`precision_thresholds`.

    Attributes:
        thresholds: (S,) float, the highest score of an other-class example per slot
            (``NO_NEGATIVES`` where the batch holds none).
        has_negatives: (S,) bool, whether the batch held an example of another class.
    """

    thresholds: torch.Tensor
    has_negatives: torch.Tensor


def precision_thresholds(scores: torch.Tensor, labels: torch.Tensor, slot_labels: torch.Tensor) -> BatchThresholds:
    """For each slot, the lowest threshold giving 100% precision on this batch.

    Args:
        scores: (N, S) slot scores of N examples (e.g. cosine similarities, already maxed over
            augmented views).
        labels: (N,) long, class of each example.
        slot_labels: (S,) long, class each slot detects.
    Returns:
        :class:`BatchThresholds`; ``scores[i, s] > thresholds[s]`` implies
        ``labels[i] == slot_labels[s]`` for every example i of the batch.
    """
    if scores.dim() != 2 or scores.shape[0] != labels.shape[0] or scores.shape[1] != slot_labels.shape[0]:
        raise ValueError(
            f"expected scores (N, S) with labels (N,) and slot_labels (S,), got {tuple(scores.shape)}, "
            f"{tuple(labels.shape)}, {tuple(slot_labels.shape)}"
        )
    other = labels[:, None] != slot_labels[None, :]  # (N, S) examples of another class
    lowest = torch.finfo(scores.dtype).min
    highest_other = scores.detach().masked_fill(~other, lowest).amax(0) if scores.shape[0] else scores.new_full((scores.shape[1],), lowest)
    has_negatives = other.any(0)  # (S,)
    thresholds = torch.where(has_negatives, highest_other, torch.full_like(highest_other, NO_NEGATIVES))
    return BatchThresholds(thresholds, has_negatives)


def update_running_thresholds(
    running: torch.Tensor, batch: BatchThresholds, momentum: float = 0.1
) -> torch.Tensor:
    """Exponential running average of batch thresholds; slots without negatives keep theirs.

    Args:
        running: (S,) current running thresholds.
        batch: this batch's :class:`BatchThresholds`.
        momentum: weight of the new batch (0: frozen, 1: the batch threshold).
    Returns:
        (S,) the updated running thresholds (a new tensor).
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    mixed = (1 - momentum) * running + momentum * batch.thresholds
    return torch.where(batch.has_negatives, mixed, running)


def thresholds_in_force(
    running: torch.Tensor, batch: BatchThresholds | None, mode: str
) -> torch.Tensor:
    """The thresholds a forward pass uses.

    Args:
        running: (S,) running averages.
        batch: this batch's thresholds (None at evaluation, where labels are unknown).
        mode: "batch" (exact 100% precision on the batch; slots without negatives in the batch
            fall back to the running value) or "running".
    Returns:
        (S,) thresholds.
    """
    if mode not in {"batch", "running"}:
        raise ValueError(f"threshold mode must be 'batch' or 'running', got {mode!r}")
    if mode == "running" or batch is None:
        return running
    return torch.where(batch.has_negatives, batch.thresholds, running)


def precision_on_batch(scores: torch.Tensor, labels: torch.Tensor, slot_labels: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """Per-slot precision of ``score > threshold`` as a detector of its label (NaN if it never fires).

    Args:
        scores: (N, S); labels: (N,); slot_labels: (S,); thresholds: (S,).
    Returns:
        (S,) float.
    """
    fires = scores > thresholds[None, :]  # (N, S)
    correct = fires & (labels[:, None] == slot_labels[None, :])
    n_fire = fires.sum(0).float()
    return torch.where(n_fire > 0, correct.sum(0).float() / n_fire.clamp_min(1), torch.full_like(n_fire, float("nan")))
