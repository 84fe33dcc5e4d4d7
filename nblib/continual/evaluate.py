"""Evaluating a hashing head: accuracy with unmatched inputs, accuracy after slot update, the
new-slots curve, AUROC for out-of-distribution detection, and slot gradients on noise."""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..layers.hashing.layer import IncrementalNeuralHashing, SlotMatch
from ..layers.hashing.scores import slot_scores
from ..layers.hashing.setcover import SetCover


@torch.no_grad()
def encode_in_chunks(encode: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """``encode`` applied to ``inputs`` in chunks without gradient, concatenated. (N, ...) -> (N, ...)."""
    return torch.cat([encode(inputs[i : i + chunk]) for i in range(0, inputs.shape[0], chunk)])


def match_metrics(match: SlotMatch, labels: torch.Tensor) -> dict:
    """Accuracy (an unmatched input counts as an error), unmatched rate, accuracy among matched.

    Args:
        match: the head's :class:`SlotMatch` on N inputs; labels: (N,).
    """
    correct = match.prediction == labels
    matched = ~match.unmatched
    n_matched = int(matched.sum())
    return {
        "accuracy": correct.float().mean().item(),
        "unmatched": match.unmatched.float().mean().item(),
        "accuracy_matched": (correct & matched).sum().item() / n_matched if n_matched else float("nan"),
        "n": labels.shape[0],
    }


def accuracy_vs_new_slots(head: IncrementalNeuralHashing, n_old: int, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy when only the first k of the slots appended after ``n_old`` are kept, k = 0..K.

    Winner-take-all (the prediction of max pooling): the slot with the largest
    ``score - threshold`` decides, unmatched (error) if that is <= 0. Computed for every k at
    once with a cumulative max over the new slots (greedy order).

    Args:
        head: a head whose slots ``n_old..S-1`` were added by :meth:`~IncrementalNeuralHashing.add_slots`.
        n_old: slots before the update.
        z: (N, D) or (N, A, D) evaluation representations; labels: (N,).
    Returns:
        (K + 1,) accuracies; entry k uses the old slots plus the first k new ones.
    """
    signed = slot_scores(z, head.weight.detach()) - head.thresholds[None, :]  # (N, S)
    n = signed.shape[0]
    if n_old:
        old_best, old_idx = signed[:, :n_old].max(1)
        old_label = head.slot_labels[old_idx]
    else:
        old_best = signed.new_full((n,), -2.0)
        old_label = torch.full((n,), -1, dtype=torch.long, device=signed.device)
    new_best, new_idx = signed[:, n_old:].cummax(1)  # (N, K) best among the first k+1 new slots
    new_label = head.slot_labels[n_old:][new_idx]  # (N, K)
    best = torch.cat([old_best[:, None], torch.maximum(new_best, old_best[:, None])], 1)  # (N, K+1)
    label = torch.cat([old_label[:, None], torch.where(new_best > old_best[:, None], new_label, old_label[:, None])], 1)
    correct = (label == labels[:, None]) & (best > 0)  # (N, K+1)
    return correct.float().mean(0)


def slots_needed(curve: torch.Tensor, target: float) -> int | None:
    """Fewest new slots at which the curve reaches ``target`` (None if it never does)."""
    hit = (curve >= target).nonzero()
    return int(hit[0, 0]) if hit.numel() else None


@dataclass
class SlotUpdate:
    """Result of :func:`slot_update`: the updated head (a copy; its new slots come last, in pick
    order: greedy set cover unless another rule was given), how many inputs were unmatched, and
    the slot counts before and added."""

    head: IncrementalNeuralHashing
    n_unmatched: int
    n_old: int
    n_new: int


def slot_update(
    head: IncrementalNeuralHashing, z: torch.Tensor, labels: torch.Tensor,
    z_reference: torch.Tensor | None = None, reference_labels: torch.Tensor | None = None,
    select: Callable[[torch.Tensor], SetCover] | None = None,
) -> SlotUpdate:
    """The "accuracy after slot update" step: one pass, label the unmatched inputs, add slots.

    Only the labels of the unmatched inputs are used. Their candidate slots get thresholds that
    are 100%-precise on the labelled data at hand: ``z_reference`` (e.g. the training set) plus
    the unmatched inputs themselves. The head passed in is left unchanged.

    Args:
        head: a trained head. z: (N, D) or (N, A, D) inputs of the pass; labels: (N,) (read only
            where unmatched).
        z_reference, reference_labels: other labelled representations for the thresholds, in
            the same format as ``z`` ((R, D), or (R, A, D) with the same A).
        select: the rule choosing the new slots among the unmatched inputs (None: greedy set
            cover; e.g. ``slot_selector("random")`` for the same number chosen at random).
    """
    new = copy.deepcopy(head).eval()
    with torch.no_grad():
        unmatched = new.match(z).unmatched
    zu, yu = z[unmatched], labels[unmatched]
    ref, ref_y = (zu, yu) if z_reference is None else (torch.cat([z_reference, zu]), torch.cat([reference_labels, yu]))
    n_old = new.n_slots
    new.add_slots(zu, yu, ref, ref_y, select=select)
    return SlotUpdate(new, int(unmatched.sum()), n_old, new.n_slots - n_old)


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counting 1/2.

    Computed from average ranks (Mann-Whitney U), exact with ties.

    Args:
        positive: (P,) scores of the positives (e.g. out-of-distribution inputs' "OOD score").
        negative: (Q,) scores of the negatives.
    """
    if positive.numel() == 0 or negative.numel() == 0:
        raise ValueError("AUROC needs at least one positive and one negative score")
    scores = torch.cat([positive.flatten(), negative.flatten()]).double()
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    upper = counts.cumsum(0).double()  # rank of the last copy of each value (1-based)
    average_rank = upper - (counts.double() - 1) / 2  # (U,) tied values share their mean rank
    ranks = average_rank[inverse]
    p, q = positive.numel(), negative.numel()
    u = ranks[:p].sum() - p * (p + 1) / 2
    return float(u / (p * q))


def slot_input_gradients(
    encode: Callable[[torch.Tensor], torch.Tensor], head: IncrementalNeuralHashing, slots: torch.Tensor, noise: torch.Tensor,
) -> torch.Tensor:
    """Gradient of each slot's cosine score with respect to the input, averaged over noise images.

    The notes' visualisation of what a unit responds to independently of any particular input.
    All slots and noise images go through the encoder in one batch (K x B inputs).

    Args:
        encode: images (M, C, H, W) -> representations (M, D).
        head: the head. slots: (K,) slot indices. noise: (B, C, H, W) input images.
    Returns:
        (K, C, H, W) mean input gradient per slot.
    """
    k, b = slots.shape[0], noise.shape[0]
    x = noise.repeat(k, 1, 1, 1).detach().requires_grad_(True)  # (K*B, C, H, W), slot-major
    scores = slot_scores(encode(x), head.weight.detach()[slots])  # (K*B, K)
    own = torch.arange(k, device=x.device).repeat_interleave(b)  # (K*B,) the slot each copy is for
    scores.gather(1, own[:, None]).sum().backward()
    return x.grad.view(k, b, *noise.shape[1:]).mean(1)  # (K, C, H, W)


@torch.no_grad()
def nearest_neighbour_predict(z: torch.Tensor, z_reference: torch.Tensor, reference_labels: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Label of the most cosine-similar reference example (the memorise-everything baseline).

    Args:
        z: (N, D) queries; z_reference: (R, D); reference_labels: (R,).
    Returns:
        (N,) predicted labels.
    """
    nearest = torch.cat([slot_scores(z[i : i + chunk], z_reference).argmax(1) for i in range(0, z.shape[0], chunk)])
    return reference_labels[nearest]


@torch.no_grad()
def forgetting_breakdown(before: IncrementalNeuralHashing, after: IncrementalNeuralHashing, z: torch.Tensor) -> dict:
    """Why predictions on ``z`` changed between two snapshots of a head that only grew.

    Args:
        before, after: the head before and after more training; ``after`` must hold all of
            ``before``'s slots first, in order (nothing pruned).
        z: (N, D) or (N, A, D) inputs (e.g. an old task's test set).
    Returns:
        fractions of the N inputs: ``changed`` (prediction differs), ``lost_match`` (changed, and
        the old winning slot no longer matches: its threshold rose past the score or its weight
        moved), ``outranked`` (changed although the old winner still matches: another slot has a
        larger margin), ``outranked_by_new`` (that slot is one added after ``before``); and
        ``max_weight_change`` of the old slots, ``mean_threshold_change``.
    """
    n_old = before.n_slots
    if after.n_slots < n_old or not torch.equal(after.slot_labels[:n_old], before.slot_labels):
        raise ValueError("`after` does not start with `before`'s slots: slots were pruned or reordered")
    mb, ma = before.match(z), after.match(z)
    changed = mb.prediction != ma.prediction
    winner = mb.winner.clamp_min(0)
    old_scores = slot_scores(z, after.weight[:n_old].detach())  # (N, n_old)
    still = (mb.winner >= 0) & (old_scores.gather(1, winner[:, None]).squeeze(1) > after.thresholds[:n_old][winner])
    return {
        "changed": changed.float().mean().item(),
        "lost_match": (changed & ~still).float().mean().item(),
        "outranked": (changed & still).float().mean().item(),
        "outranked_by_new": (changed & still & (ma.winner >= n_old)).float().mean().item(),
        "max_weight_change": (after.weight[:n_old] - before.weight).abs().max().item() if n_old else 0.0,
        "mean_threshold_change": (after.thresholds[:n_old] - before.thresholds).mean().item() if n_old else 0.0,
    }
