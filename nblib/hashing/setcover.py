"""Greedy set cover as tensor operations.

Choosing which unmatched examples become new slots is a set-cover problem: each candidate
slot covers the examples it would match, and we want the fewest candidates that cover them
all. Set cover is NP-hard; the greedy rule (repeatedly take the candidate covering the most
still-uncovered elements) is the classic approximation, within a factor H(d) <= ln(n) + 1 of
the optimum, where d is the largest set and n the number of elements (Johnson 1974,
Chvatal 1979).

:func:`greedy_set_cover` keeps the per-candidate count of uncovered elements it covers and,
after each pick, subtracts only the elements that the pick newly covered (rows of the transposed
matrix, so the gather is contiguous). Every element is subtracted once, so the whole run costs
O(candidates x elements) plus one argmax per round, the same order as building the coverage
matrix. The only Python loop is over greedy rounds.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class SetCover(NamedTuple):
    """Result of :func:`greedy_set_cover`.

    Attributes:
        chosen: (K,) long, candidate indices in the order greedy picked them.
        gains: (K,) long, newly covered elements per pick (non-increasing).
        covered: (n,) bool, elements covered by the chosen candidates (every element some
            candidate covers; elements no candidate covers stay False).
    """

    chosen: torch.Tensor
    gains: torch.Tensor
    covered: torch.Tensor


def greedy_set_cover(coverage: torch.Tensor, max_sets: int | None = None) -> SetCover:
    """Greedy approximation of the minimum set cover.

    Ties go to the lowest candidate index (``torch.argmax`` returns the first maximum).
    Elements that no candidate covers are ignored (they cannot be covered).

    Args:
        coverage: (M, n) bool, ``coverage[c, e]`` is True when candidate c covers element e.
        max_sets: stop after this many picks (None: until every coverable element is covered).
    Returns:
        :class:`SetCover` with the picks in greedy order.
    """
    if coverage.dim() != 2:
        raise ValueError(f"coverage must be (candidates, elements), got shape {tuple(coverage.shape)}")
    if coverage.dtype != torch.bool:
        raise TypeError(f"coverage must be a bool tensor, got {coverage.dtype}; use (scores > thresholds)")
    m, n = coverage.shape
    dev = coverage.device
    uncovered = torch.ones(n, dtype=torch.bool, device=dev)
    if m == 0 or n == 0:
        empty = torch.zeros(0, dtype=torch.long, device=dev)
        return SetCover(empty, empty.clone(), ~uncovered)
    by_element = coverage.T.contiguous()  # (n, M): an element's candidates are one contiguous row
    counts = by_element.sum(0, dtype=torch.int32)  # (M,) uncovered elements each candidate covers
    chosen, gains = [], []
    limit = m if max_sets is None else min(max_sets, m)
    for _ in range(limit):  # one round per pick
        best = torch.argmax(counts)
        newly = (coverage[best] & uncovered).nonzero().squeeze(1)  # (k,) elements this pick covers first
        if newly.numel() == 0:  # the best candidate adds nothing: all coverable elements are covered
            break
        chosen.append(best)
        gains.append(newly.numel())
        uncovered[newly] = False
        counts -= by_element[newly].sum(0, dtype=torch.int32)  # (M,) each element is subtracted once overall
    if not chosen:
        empty = torch.zeros(0, dtype=torch.long, device=dev)
        return SetCover(empty, empty.clone(), ~uncovered)
    return SetCover(torch.stack(chosen), torch.tensor(gains, dtype=torch.long, device=dev), ~uncovered)


def greedy_set_cover_python(sets: list[set[int]], n_elements: int) -> list[int]:
    """Plain-Python greedy set cover (reference and benchmark baseline).

    Same rule and tie-break as :func:`greedy_set_cover`: each round scans every candidate for
    the one covering the most uncovered elements (first index wins ties).

    Args:
        sets: the elements (0..n_elements-1) each candidate covers.
        n_elements: size of the universe.
    Returns:
        candidate indices in greedy order.
    """
    uncovered = set(range(n_elements)) & set().union(*sets) if sets else set()
    chosen = []
    while uncovered:
        best, best_gain = -1, 0
        for i, s in enumerate(sets):
            gain = len(s & uncovered)
            if gain > best_gain:
                best, best_gain = i, gain
        chosen.append(best)
        uncovered -= sets[best]
    return chosen


def greedy_approximation_bound(n_elements: int, largest_set: int | None = None) -> float:
    """Greedy's worst-case ratio to the optimum, H(d) = 1 + 1/2 + ... + 1/d <= ln(n) + 1.

    Args:
        n_elements: elements to cover (n).
        largest_set: the largest candidate set d (default n).
    """
    d = n_elements if largest_set is None else largest_set
    return float(sum(1.0 / k for k in range(1, max(d, 1) + 1)))
