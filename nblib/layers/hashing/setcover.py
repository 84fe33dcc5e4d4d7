"""Greedy set cover, processed one gain level at a time over sparse (CSR) incidence lists.

Choosing which unmatched examples become new slots is a set-cover problem: each candidate
slot covers the examples it would match, and we want the fewest candidates that cover them
all. Set cover is NP-hard; the greedy rule (repeatedly take the candidate covering the most
still-uncovered elements, ties to the lowest index) is the classic approximation, within a
factor H(d) <= ln(n) + 1 of the optimum, where d is the largest set and n the number of
elements (Johnson 1974, Chvatal 1979).

How :func:`greedy_set_cover` gets greedy's exact picks with few array operations:

- The dense (M, n) bool matrix is read once into two sparse lists: each candidate's elements
  (CSR by candidate) and each element's candidates (CSR by element). Coverage matrices here are
  sparse (density 0.002-0.02), so all later work is proportional to the nonzeros, not M x n.
- Gains (uncovered elements per candidate) only fall. So with the current maximum gain g, greedy
  takes the candidates now at gain g in index order, skipping any that lost an element to an
  earlier pick of this level, until none is left at g. Which of them are taken is the
  lexicographically first maximal set of candidates with pairwise disjoint uncovered elements,
  resolved in a few vectorised rounds. A level is resolved as a whole only when it should give
  several picks (see ``BATCH``); otherwise greedy takes one pick (the first argmax).
- After each level or pick, the gains fall by one per (newly covered element, candidate covering
  it): one gather of the element lists and one bincount (or ``subtract.at`` when few).

Work: one pass over the dense matrix, then work proportional to the nonzeros touched, plus one
argmax over the M gains per level or single pick. On the CPU the loop runs on numpy arrays (per-call
overhead, see :class:`_Ops`); on a GPU the same loop runs on torch tensors.
"""
from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np
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


#: A gain level is resolved as a whole when it is expected to give at least BATCH picks, otherwise
#: one pick at a time (tuned at 2,000 and 10,000 square, densities 0.002 and 0.02, where the
#: choice is worth up to 5x either way: benchmarks/bench_setcover.py).
BATCH = 3

#: CPU tensors run the level loop on numpy (False: on torch, the GPU code path; tests use it).
CPU_NUMPY = True


class _Ops:
    """The few array operations the level loop needs, for numpy arrays (CPU) or torch tensors.

    On the CPU the loop runs on numpy: its per-call overhead is about 1 us against 4-30 us for
    torch's CPU kernels (boolean masks, ``nonzero`` and ``repeat_interleave`` are the slow ones),
    and the loop makes a few dozen small calls per gain level. On a GPU the same loop runs on
    torch tensors. Indexing, comparisons, ``cumsum(0)`` and ``max()`` are spelled alike in both.
    """

    def __init__(self, device: torch.device):
        self.np = device.type == "cpu" and CPU_NUMPY
        self.device = device

    def arange(self, n):
        return np.arange(n) if self.np else torch.arange(n, device=self.device)

    def zeros(self, n, dtype=bool):
        if self.np:
            return np.zeros(n, dtype)
        return torch.zeros(n, dtype=torch.bool if dtype is bool else torch.long, device=self.device)

    def flatnonzero(self, x):
        return np.flatnonzero(x) if self.np else x.nonzero().squeeze(1)

    def repeat(self, values, counts, total: int):
        return np.repeat(values, counts) if self.np else torch.repeat_interleave(values, counts, output_size=total)

    def decrement(self, gains, index) -> None:
        """gains[i] -= (occurrences of i in index)."""
        if not self.np:
            gains -= torch.bincount(index, minlength=len(gains))
        elif len(index) * 8 < len(gains):  # few: unbuffered subtract; many: one pass of bincount
            np.subtract.at(gains, index, 1)
        else:
            gains -= np.bincount(index, minlength=len(gains))

    def amin_at(self, table, index, values, fill: int) -> None:
        """table[i] = min(values at i) for every i in index (other entries untouched)."""
        table[index] = fill
        if self.np:
            np.minimum.at(table, index, values)
        else:
            table.scatter_reduce_(0, index, values, "amin")


def _incidence(coverage: torch.Tensor, use_numpy: bool):
    """Both sparse views of the (M, n) bool matrix, as numpy arrays (CPU) or tensors (GPU).

    Returns (row_ptr, cols, row_count, col_ptr, col_rows, col_count): candidate c's elements are
    ``cols[row_ptr[c]:row_ptr[c + 1]]``, element e's candidates ``col_rows[col_ptr[e]:col_ptr[e + 1]]``
    (ascending).
    """
    m, n = coverage.shape
    if use_numpy:
        rows, cols = np.divmod(np.flatnonzero(coverage.numpy()), n)  # row-major: sorted by candidate
        # a stable sort by element keeps candidates ascending within each element; numpy sorts
        # 16-bit keys by radix (linear time), the common case n <= 65,536
        order = np.argsort(cols.astype(np.uint16) if n <= 1 << 16 else cols, kind="stable")
        row_count, col_count = np.bincount(rows, minlength=m), np.bincount(cols, minlength=n)
        row_ptr, col_ptr = np.zeros(m + 1, np.int64), np.zeros(n + 1, np.int64)
        np.cumsum(row_count, out=row_ptr[1:])
        np.cumsum(col_count, out=col_ptr[1:])
        return row_ptr, cols, row_count, col_ptr, rows[order], col_count
    flat = coverage.reshape(-1).nonzero().squeeze(1)
    rows, cols = flat // n, flat % n
    order = torch.sort(cols, stable=True).indices
    row_count, col_count = torch.bincount(rows, minlength=m), torch.bincount(cols, minlength=n)
    zero = torch.zeros(1, dtype=torch.long, device=coverage.device)
    return (torch.cat([zero, row_count.cumsum(0)]), cols, row_count, torch.cat([zero, col_count.cumsum(0)]),
            rows[order], col_count)


def _ragged(ops: _Ops, starts, lens):
    """Concatenation of arange(s, s + l) for every (s, l): the positions of several list slices."""
    ends = lens.cumsum(0)
    total = int(ends[-1]) if len(ends) else 0
    return ops.repeat(starts - (ends - lens), lens, total) + ops.arange(total)


def _first_disjoint(ops: _Ops, elems, owner, k: int, taken, first):
    """(k,) bool: which of k sets, taken in index order, greedy keeps at this gain level.

    Set i is kept unless it shares an element with an earlier kept set (the lexicographically
    first maximal family of pairwise disjoint sets). ``elems``/``owner`` list the sets' elements,
    ``owner`` ascending; ``taken`` (n,) bool all False and ``first`` (n,) long are scratch.
    """
    undecided = ops.zeros(k) | True
    kept = ops.zeros(k)
    e, o = elems, owner
    while len(o):
        # a set touching an element of a kept set is dropped: by construction the kept set came first
        hit = taken[e]
        undecided[o[hit]] = False
        live = undecided[o]
        e, o = e[live], o[live]
        if not len(o):
            break
        # keep every set that is the earliest undecided owner of each of its elements (at least
        # the first undecided set qualifies, so every round decides something)
        ops.amin_at(first, e, o, k)
        blocked = ops.zeros(k)
        blocked[o[first[e] != o]] = True
        now = undecided & ~blocked
        kept |= now
        undecided &= ~now
        sel = now[o]
        taken[e[sel]] = True
        e, o = e[~sel], o[~sel]
    taken[elems[kept[owner]]] = False  # leave the scratch all False again
    return kept


def greedy_set_cover(coverage: torch.Tensor, max_sets: int | None = None) -> SetCover:
    """Greedy approximation of the minimum set cover.

    Each pick is the candidate covering the most still-uncovered elements; ties go to the lowest
    candidate index (the same picks as an argmax rescan or a lazy priority queue). Elements that
    no candidate covers are ignored (they cannot be covered).

    Args:
        coverage: (M, n) bool, ``coverage[c, e]`` is True when candidate c covers element e.
        max_sets: stop after this many picks (None: until every coverable element is covered).
    Returns:
        :class:`SetCover` with the picks in greedy order, on the device of ``coverage``.
    """
    if coverage.dim() != 2:
        raise ValueError(f"coverage must be (candidates, elements), got shape {tuple(coverage.shape)}")
    if coverage.dtype != torch.bool:
        raise TypeError(f"coverage must be a bool tensor, got {coverage.dtype}; use (scores > thresholds)")
    m, n = coverage.shape
    dev = coverage.device
    limit = m if max_sets is None else min(max_sets, m)
    if not (m and n and limit > 0):
        empty = torch.zeros(0, dtype=torch.long, device=dev)
        return SetCover(empty, empty.clone(), torch.zeros(n, dtype=torch.bool, device=dev))
    ops = _Ops(dev)
    row_ptr, cols, row_count, col_ptr, col_rows, col_count = _incidence(coverage, ops.np)
    gains = row_count.copy() if ops.np else row_count.clone()
    uncovered, taken, first = ops.zeros(n) | True, ops.zeros(n), ops.zeros(n, int)
    chosen, gains_out, picked = [], [], 0
    left = int((col_count > 0).sum())  # coverable elements still uncovered
    while picked < limit:
        best = int(gains.argmax())  # the first candidate at the top gain
        g = int(gains[best])
        if g == 0:  # every coverable element is covered
            break
        # a whole level pays off (one round of ~30 array calls instead of ~10 per pick) when it
        # yields several picks: at least BATCH candidates, which rarely share elements (about
        # left / g^2 sets of g elements fit among `left` elements before they overlap)
        level = ops.flatnonzero(gains == g) if g * g * BATCH <= left else None
        if level is None or len(level) < BATCH or limit - picked == 1:  # one pick: nothing to resolve
            elems = cols[int(row_ptr[best]):int(row_ptr[best + 1])]
            newly = elems[uncovered[elems]]
            take = [best]
        else:
            k = len(level)
            lens = row_count[level]
            elems = cols[_ragged(ops, row_ptr[level], lens)]
            owner = ops.repeat(ops.arange(k), lens, len(elems))
            live = uncovered[elems]
            elems, owner = elems[live], owner[live]  # exactly g uncovered elements per set
            kept = _first_disjoint(ops, elems, owner, k, taken, first)
            take = ops.flatnonzero(kept)
            if len(take) > limit - picked:  # max_sets reached inside this level
                take = take[: limit - picked]
                kept = ops.zeros(k)
                kept[take] = True
            newly = elems[kept[owner]]  # distinct: the kept sets are disjoint
            take = level[take].tolist()
        chosen += take
        gains_out += [g] * len(take)
        picked += len(take)
        left -= len(newly)
        uncovered[newly] = False
        # every candidate covering a newly covered element loses one per such element
        ops.decrement(gains, col_rows[_ragged(ops, col_ptr[newly], col_count[newly])])
    covered = torch.from_numpy(~uncovered) if ops.np else ~uncovered
    return SetCover(torch.tensor(chosen, dtype=torch.long, device=dev),
                    torch.tensor(gains_out, dtype=torch.long, device=dev), covered)


def _coverable(sets: list[set[int]], n_elements: int) -> set[int]:
    """The elements of 0..n_elements-1 that some candidate covers (the plain-Python references' universe)."""
    return set(range(n_elements)) & set().union(*sets) if sets else set()


def greedy_set_cover_python(sets: list[set[int]], n_elements: int) -> list[int]:
    """Plain-Python greedy set cover that rescans every candidate each round (reference).

    Same rule and tie-break as :func:`greedy_set_cover`: each round scans every candidate for
    the one covering the most uncovered elements (first index wins ties).

    Args:
        sets: the elements (0..n_elements-1) each candidate covers.
        n_elements: size of the universe.
    Returns:
        candidate indices in greedy order.
    """
    uncovered = _coverable(sets, n_elements)
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


def greedy_set_cover_lazy(sets: list[set[int]], n_elements: int) -> list[int]:
    """Plain-Python lazy greedy (the textbook fast baseline): same picks as :func:`greedy_set_cover`.

    A heap of (-gain bound, index): gains only fall, so a popped entry whose recomputed gain
    still equals its bound beats every other candidate, and the index in the key gives the
    lowest-index tie rule.

    Args and return value as :func:`greedy_set_cover_python`.
    """
    uncovered = _coverable(sets, n_elements)
    heap = [(-len(s), i) for i, s in enumerate(sets) if s]
    heapq.heapify(heap)
    chosen = []
    while uncovered:
        bound, i = heapq.heappop(heap)
        gain = len(sets[i] & uncovered)
        if gain == -bound:
            chosen.append(i)
            uncovered -= sets[i]
        elif gain:
            heapq.heappush(heap, (-gain, i))
    return chosen


def greedy_approximation_bound(n_elements: int, largest_set: int | None = None) -> float:
    """Greedy's worst-case ratio to the optimum, H(d) = 1 + 1/2 + ... + 1/d <= ln(n) + 1.

    Args:
        n_elements: elements to cover (n).
        largest_set: the largest candidate set d (default n).
    """
    d = n_elements if largest_set is None else largest_set
    return float(sum(1.0 / k for k in range(1, max(d, 1) + 1)))
