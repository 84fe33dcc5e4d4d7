"""IncrementalNeuralHashing: a growing ensemble of 100%-precision class detectors (slots).

A plug-and-play head for any representation (in place of a linear probe). Each slot is an
L2-normalised weight row with a class label and a threshold. An input's representation is
L2-normalised, scored against every slot (cosine; with augmented views, the best view), and a
slot *matches* when its score exceeds its threshold. The class output pools the thresholded
margins ``relu(score - threshold)`` of the class's slots (max or SoftMaxPool). An input that no
slot matches is *unmatched*: out of distribution for the layer.

Training (:meth:`IncrementalNeuralHashing.learn`): examples that no slot of their own class
matches become candidate slots (their view of largest norm, normalised), each candidate gets
its 100%-precision threshold on the batch, and the fewest candidates covering those examples
(greedy set cover) are appended as new slots. Growth replaces the weight, so the layer's own
optimiser is stateless SGD, rebuilt after every growth and pruning. Slots of a class seen in
an epoch that matched none of its examples are pruned at the epoch's end
(:meth:`IncrementalNeuralHashing.prune_dead`); slots of classes absent from the epoch stay.

Evaluation: :meth:`IncrementalNeuralHashing.match` flags unmatched inputs;
:meth:`IncrementalNeuralHashing.add_slots` adds labelled slots for them ("accuracy after slot
update").
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..softmaxpool import SoftMaxPool
from .scores import as_views, max_norm_view, slot_scores
from .setcover import SetCover, greedy_set_cover
from .thresholds import precision_thresholds, thresholds_in_force, update_running_thresholds

PAD = -1.0e4  # value of empty class positions before SoftMaxPool: zero softmax weight for any T < 100


class SlotMatch(NamedTuple):
    """What the layer sees in a batch.

    Attributes:
        scores: (N, S) cosine of each input (best view) with each slot.
        margins: (N, S) ``relu(score - threshold)``; > 0 where the slot matches.
        logits: (N, C) ``scale * pooled margins`` per class.
        unmatched: (N,) bool, no slot matches (out of distribution for the layer).
        best_margin: (N,) the largest ``score - threshold`` (signed; -2 with no slots): an
            in-distribution score, higher = more familiar.
        winner: (N,) long, slot with the largest ``score - threshold`` (-1 with no slots).
        prediction: (N,) long, argmax of the logits, -1 where unmatched.
    """

    scores: torch.Tensor
    margins: torch.Tensor
    logits: torch.Tensor
    unmatched: torch.Tensor
    best_margin: torch.Tensor
    winner: torch.Tensor
    prediction: torch.Tensor


class IncrementalNeuralHashing(nn.Module):
    """Growing slot layer: (N, D) or (N, A, D) representations -> (N, n_classes) logits.

    Args:
        in_features: representation size D.
        n_classes: classes C.
        pooling: "max" or "softmax" (SoftMaxPool over each class's slots).
        temperature: SoftMaxPool's initial temperature (margins are ~0.01-0.5).
        learnable_temperature: learn the SoftMaxPool temperature.
        threshold_mode: thresholds used while training: "batch" (exact on the batch: only slots
            of the example's own class can match it, so gradients are positive only) or
            "running" (the running averages, used at evaluation in both modes).
        momentum: weight of each batch in the running thresholds.
        lr: learning rate of the layer's SGD (no momentum: stateless, survives growth).
        scale: logits = scale * pooled margins.
        learnable_scale: learn the scale too.
        grow: add slots in :meth:`learn` (False: only adapt existing slots).
        slots_as_negatives: also count the existing slots of other classes as examples of
            their class when computing thresholds (not in the notes: a memory of past classes
            for class-incremental learning, where a batch holds only the current classes).
    """

    def __init__(self, in_features: int, n_classes: int, pooling: str = "max", temperature: float = 0.05,
                 learnable_temperature: bool = False, threshold_mode: str = "batch", momentum: float = 0.1,
                 lr: float = 0.05, scale: float = 10.0, learnable_scale: bool = False, grow: bool = True,
                 slots_as_negatives: bool = False):
        super().__init__()
        if pooling not in {"max", "softmax"}:
            raise ValueError(f"pooling must be 'max' or 'softmax', got {pooling!r}")
        thresholds_in_force(torch.zeros(0), None, threshold_mode)  # validates the mode
        self.in_features, self.n_classes = in_features, n_classes
        self.pooling, self.threshold_mode, self.momentum = pooling, threshold_mode, momentum
        self.lr, self.grow, self.slots_as_negatives = lr, grow, slots_as_negatives
        self.weight = nn.Parameter(torch.zeros(0, in_features))
        self.register_buffer("slot_labels", torch.zeros(0, dtype=torch.long))
        self.register_buffer("thresholds", torch.zeros(0))  # running averages
        self.register_buffer("slots_per_class", torch.zeros(n_classes, dtype=torch.long))
        self.register_buffer("slot_activations", torch.zeros(0, dtype=torch.long))  # matches this epoch
        self.register_buffer("class_seen", torch.zeros(n_classes, dtype=torch.bool))  # classes in this epoch
        scale_t = torch.tensor(float(scale))
        self.scale = nn.Parameter(scale_t) if learnable_scale else None
        if not learnable_scale:
            self.register_buffer("scale_value", scale_t)
        self.pool = SoftMaxPool(n_classes, temperature, learnable_temperature) if pooling == "softmax" else None
        self._layout: tuple[torch.Tensor, int] | None = None
        self.register_load_state_dict_post_hook(lambda module, keys: module._changed())
        self._changed()

    # ----------------------------------------------------------------- slot bookkeeping
    @property
    def n_slots(self) -> int:
        return self.weight.shape[0]

    def _scale(self) -> torch.Tensor:
        return self.scale if self.scale is not None else self.scale_value

    def _changed(self) -> None:
        """After the slots changed: recount per class, forget the layout, rebuild the optimiser."""
        self.slots_per_class = torch.bincount(self.slot_labels, minlength=self.n_classes)
        self._layout = None
        self.optimizer = torch.optim.SGD(self.parameters(), lr=self.lr)  # stateless: nothing to carry over

    def _set_slots(self, weight: torch.Tensor, labels: torch.Tensor, thresholds: torch.Tensor, activations: torch.Tensor) -> None:
        self.weight = nn.Parameter(weight.detach().clone())
        self.slot_labels, self.thresholds, self.slot_activations = labels.clone(), thresholds.clone(), activations.clone()
        self._changed()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "weight"
        if key in state_dict and state_dict[key].shape[0] != self.n_slots:  # resize to the saved slot count
            s, w = state_dict[key].shape[0], self.weight
            self._set_slots(w.new_zeros(s, self.in_features), self.slot_labels.new_zeros(s),
                            self.thresholds.new_zeros(s), self.slot_activations.new_zeros(s))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def layout(self) -> tuple[torch.Tensor, int]:
        """Position of each slot in a dense (C, K) class-by-slot grid, and K (slots of the largest class)."""
        if self._layout is None:
            onehot = F.one_hot(self.slot_labels, self.n_classes)  # (S, C)
            rank = (onehot.cumsum(0) - 1).gather(1, self.slot_labels[:, None]).squeeze(1)  # (S,) index within class
            k = int(self.slots_per_class.max()) if self.n_slots else 0
            self._layout = (self.slot_labels * k + rank, k)
        return self._layout

    # ----------------------------------------------------------------- forward
    def pool_classes(self, margins: torch.Tensor) -> torch.Tensor:
        """(N, S) thresholded margins -> (N, C) pooled per class (0 for classes without slots)."""
        n = margins.shape[0]
        if self.n_slots == 0:
            return margins.new_zeros(n, self.n_classes)
        pos, k = self.layout()
        fill = 0.0 if self.pool is None else PAD  # max: margins are >= 0, so 0 is neutral
        dense = margins.new_full((n, self.n_classes * k), fill).index_copy(1, pos, margins)  # (N, C*K)
        if self.pool is None:
            return dense.view(n, self.n_classes, k).amax(-1)  # (N, C)
        pooled = self.pool(dense)  # (N, C)
        return torch.where(self.slots_per_class[None, :] > 0, pooled, torch.zeros_like(pooled))

    def match(self, z: torch.Tensor, thresholds: torch.Tensor | None = None) -> SlotMatch:
        """Score, threshold and pool a batch of representations (N, D) or views (N, A, D)."""
        if as_views(z).shape[-1] != self.in_features:
            raise ValueError(f"representation size {z.shape[-1]} != in_features {self.in_features}")
        thr = self.thresholds if thresholds is None else thresholds
        scores = slot_scores(z, self.weight)  # (N, S)
        signed = scores - thr[None, :]  # (N, S)
        margins = F.relu(signed)
        logits = self._scale() * self.pool_classes(margins)  # (N, C)
        if self.n_slots:
            best_margin, winner = signed.detach().max(1)
        else:
            best_margin = scores.new_full((scores.shape[0],), -2.0)
            winner = torch.full_like(best_margin, -1, dtype=torch.long)
        unmatched = best_margin <= 0
        prediction = torch.where(unmatched, torch.full_like(winner, -1), logits.detach().argmax(1))
        return SlotMatch(scores, margins, logits, unmatched, best_margin, winner, prediction)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.match(z).logits

    # ----------------------------------------------------------------- growth and pruning
    @torch.no_grad()
    def add_slots(self, candidates: torch.Tensor, candidate_labels: torch.Tensor,
                  reference: torch.Tensor | None = None, reference_labels: torch.Tensor | None = None,
                  select: Callable[[torch.Tensor], SetCover] | None = None) -> SetCover:
        """Add the fewest candidate slots that cover the candidates (greedy set cover).

        Each candidate (its view of largest norm, normalised) gets its 100%-precision threshold
        on ``reference``; it covers the candidates of its class whose score exceeds that
        threshold.

        Args:
            candidates: (M, D) or (M, A, D) representations needing a slot.
            candidate_labels: (M,) their labels.
            reference: (R, D) or (R, A, D) labelled examples the thresholds are computed on
                (default: the candidates).
            reference_labels: (R,).
            select: (M, M) bool coverage -> :class:`SetCover`, the rule picking the candidates
                (None: greedy set cover; others: :func:`nblib.layers.hashing.selection.slot_selector`).
        Returns:
            The :class:`SetCover` over the candidates (``chosen`` index ``candidates``; the new
            slots are appended in that order).
        """
        if reference is None:
            reference, reference_labels = candidates, candidate_labels
        reference, reference_labels = self._with_slot_examples(reference, reference_labels)
        new_dirs = F.normalize(max_norm_view(candidates), dim=-1).to(self.weight.dtype)  # (M, D)
        ref_thr = precision_thresholds(slot_scores(reference, new_dirs), reference_labels, candidate_labels)
        element_scores = slot_scores(candidates, new_dirs).T  # (M candidates, M elements)
        same = candidate_labels[:, None] == candidate_labels[None, :]
        cover = (select or greedy_set_cover)((element_scores > ref_thr.thresholds[:, None]) & same)
        if cover.chosen.numel():
            c = cover.chosen
            self._set_slots(torch.cat([self.weight.detach(), new_dirs[c]]),
                            torch.cat([self.slot_labels, candidate_labels[c]]),
                            torch.cat([self.thresholds, ref_thr.thresholds[c]]),
                            torch.cat([self.slot_activations, torch.zeros_like(c)]))
        return cover

    @torch.no_grad()
    def recompute_thresholds(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Set every slot's threshold to its 100%-precision threshold on a whole labelled set.

        Stricter than the running average of per-batch thresholds (the maximum over the set,
        not an average of batch maxima): no slot then fires on another class anywhere in it.
        Slots with no other-class example in the set keep their threshold.

        Args:
            z: (N, D) or (N, A, D) representations; labels: (N,).
        Returns:
            (S,) the new thresholds.
        """
        batch = precision_thresholds(slot_scores(z, self.weight), labels, self.slot_labels)
        self.thresholds = torch.where(batch.has_negatives, batch.thresholds, self.thresholds)
        return self.thresholds

    @torch.no_grad()
    def prune_dead(self) -> torch.Tensor:
        """End of an epoch: drop slots of classes seen this epoch that matched none of their examples.

        Returns:
            (C,) long, slots pruned per class. Activation counts and seen classes are reset.
        """
        dead = (self.slot_activations == 0) & self.class_seen[self.slot_labels]  # (S,)
        pruned = torch.bincount(self.slot_labels[dead], minlength=self.n_classes)
        if bool(dead.any()):
            keep = ~dead
            self._set_slots(self.weight[keep], self.slot_labels[keep], self.thresholds[keep], self.slot_activations[keep])
        self.slot_activations.zero_()
        self.class_seen.zero_()
        return pruned

    def _with_slot_examples(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """With ``slots_as_negatives``: append the slots to a labelled batch as extra examples."""
        if not self.slots_as_negatives or self.n_slots == 0:
            return z, labels
        w = self.weight.detach()
        slots = w if z.dim() == 2 else w[:, None, :].expand(-1, z.shape[1], -1)  # (S, D) or (S, A, D)
        return torch.cat([z, slots.to(z.dtype)]), torch.cat([labels, self.slot_labels])

    # ----------------------------------------------------------------- training
    def learn(self, z: torch.Tensor, labels: torch.Tensor) -> SlotMatch:
        """One training batch: update thresholds, grow, then the forward pass to differentiate.

        Args:
            z: (N, D) or (N, A, D) representations (may carry gradient to a backbone).
            labels: (N,) long.
        Returns:
            :class:`SlotMatch` of the grown layer with gradient; backpropagate a loss on its
            logits, then step ``self.optimizer`` (the current one: it is replaced on growth).
        """
        with torch.no_grad():
            zd = z.detach()
            ref, ref_labels = self._with_slot_examples(zd, labels)
            scores = slot_scores(ref, self.weight)  # (N [+ S], S)
            batch = precision_thresholds(scores, ref_labels, self.slot_labels)
            scores = scores[: labels.shape[0]]  # (N, S) the batch's own examples
            self.thresholds = update_running_thresholds(self.thresholds, batch, self.momentum)
            thr = thresholds_in_force(self.thresholds, batch, self.threshold_mode)
            own = labels[:, None] == self.slot_labels[None, :]  # (N, S)
            needs_slot = ~((scores > thr[None, :]) & own).any(1)  # (N,) no slot of its own class matches
            if self.grow and bool(needs_slot.any()):  # the one host sync of a step: shapes depend on it
                self.add_slots(zd[needs_slot], labels[needs_slot], zd, labels)
                ref, ref_labels = self._with_slot_examples(zd, labels)  # this batch's thresholds, grown slots
                batch = precision_thresholds(slot_scores(ref, self.weight), ref_labels, self.slot_labels)
                thr = thresholds_in_force(self.thresholds, batch, self.threshold_mode)
        m = self.match(z, thr)
        if self.training:
            own = labels[:, None] == self.slot_labels[None, :]
            self.slot_activations += ((m.margins.detach() > 0) & own).sum(0)
            self.class_seen[labels] = True
        return m

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, slots={self.n_slots}, "
                f"pooling={self.pooling}, threshold_mode={self.threshold_mode}, lr={self.lr}")
