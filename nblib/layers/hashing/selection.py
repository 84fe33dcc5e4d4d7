"""Which candidate slots to add: greedy set cover against two simpler rules, at equal slot counts.

Adding slots for unmatched examples is a choice among candidates (each unmatched example is a
candidate slot, covering the examples it would match). The notes pick the candidates by greedy
set cover (:func:`~nblib.layers.hashing.setcover.greedy_set_cover`). To test whether that choice
matters, two references pick the same number of candidates by another rule:

- ``"most_matches"``: most-matches-first, the candidates that match the most examples, ranked once
  (greedy set cover without updating the gains: overlaps between picks are ignored);
- ``"random"``: candidates drawn uniformly at random (the null).

Every rule returns a :class:`~nblib.layers.hashing.setcover.SetCover` (picks in order, newly covered
elements per pick, covered elements), so any of them can replace the set cover in
:meth:`IncrementalNeuralHashing.add_slots` (``select=slot_selector(...)``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from .setcover import SetCover, greedy_set_cover

#: Slot-selection rules known to :func:`select_slots`.
STRATEGIES = ("set_cover", "most_matches", "random")


def cover_of(coverage: torch.Tensor, chosen: torch.Tensor) -> SetCover:
    """The :class:`SetCover` of picks taken in a given order.

    Args:
        coverage: (M, n) bool, ``coverage[c, e]``: candidate c covers element e.
        chosen: (K,) long candidate indices, in pick order.
    Returns:
        ``SetCover(chosen, gains, covered)``: gains (K,) are the elements each pick covers that no
        earlier pick covers; covered (n,) the elements some pick covers.
    """
    n = coverage.shape[1]
    picked = coverage[chosen]                                          # (K, n)
    covered = picked.any(0) if chosen.numel() else torch.zeros(n, dtype=torch.bool, device=coverage.device)
    first = picked.to(torch.uint8).argmax(0) if chosen.numel() else torch.zeros(n, dtype=torch.long, device=coverage.device)
    gains = torch.bincount(first[covered], minlength=chosen.numel())   # (K,) each element counted at its first pick
    return SetCover(chosen, gains, covered)


def select_slots(coverage: torch.Tensor, strategy: str = "set_cover", k: int | None = None, seed: int = 0) -> SetCover:
    """Pick ``k`` candidates by one of :data:`STRATEGIES`.

    Args:
        coverage: (M, n) bool, ``coverage[c, e]``: candidate c covers element e.
        strategy: ``"set_cover"`` (greedy: each pick covers the most still-uncovered elements),
            ``"most_matches"`` (the k candidates covering the most elements, ranked once; ties to
            the lowest index) or ``"random"`` (k candidates uniformly without replacement).
        k: picks (None: as many as greedy set cover needs to cover every coverable element, so
            all rules add the same number of slots). Set cover stops early once all is covered.
        seed: the random rule's seed.
    Returns:
        :class:`SetCover` with the picks in order.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if coverage.dim() != 2 or coverage.dtype != torch.bool:
        raise ValueError(f"coverage must be a (candidates, elements) bool tensor, got {coverage.dtype} {tuple(coverage.shape)}")
    if strategy == "set_cover":
        return greedy_set_cover(coverage, max_sets=k)
    m = coverage.shape[0]
    k = greedy_set_cover(coverage).chosen.numel() if k is None else min(k, m)
    if strategy == "most_matches":
        order = torch.sort(coverage.sum(1), descending=True, stable=True).indices   # ties keep index order
    else:
        order = torch.randperm(m, generator=torch.Generator().manual_seed(seed)).to(coverage.device)
    return cover_of(coverage, order[:k])


def slot_selector(strategy: str = "set_cover", k: int | None = None, seed: int = 0) -> Callable[[torch.Tensor], SetCover]:
    """:func:`select_slots` with its rule fixed: the ``select`` argument of ``add_slots`` / ``slot_update``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    return partial(select_slots, strategy=strategy, k=k, seed=seed)
