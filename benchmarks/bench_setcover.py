"""Greedy set cover: nblib against the plain baselines, interleaved in one run, identical picks.

Contenders (all give greedy's picks with ties to the lowest index; every result is checked equal):

- nblib ``greedy_set_cover``: the dense bool matrix in, sparse incidence lists, whole gain levels
  or single picks (timed from the bool tensor, conversion included);
- lazy greedy: the textbook plain-Python version (a heap of gain bounds over Python sets; the
  sets are built before timing, so its conversion is not counted);
- numpy incremental: one pick per round (argmax over the gains, subtract the newly covered
  elements' candidates), timed from the same dense matrix, with nblib's CSR conversion;
- naive greedy: plain Python rescanning every candidate each round (only at sizes <= 2,000:
  it takes 10-30 s at 10,000).

Rounds alternate between the contenders (order rotated every round); the median and the min
over the rounds are reported.

    python benchmarks/bench_setcover.py [--device cuda] [--sizes 2000 10000] [--densities 0.002 0.02] [--rounds 7]
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from nblib.layers.hashing import greedy_set_cover, greedy_set_cover_lazy, greedy_set_cover_python
from nblib.timing import benchmark_parser, start_benchmark


def numpy_incremental(coverage: np.ndarray) -> list[int]:
    """One pick per round on CSR lists: argmax of the gains, then subtract the candidates of the
    newly covered elements (the straightforward vectorised greedy)."""
    m, n = coverage.shape
    rows, cols = np.divmod(np.flatnonzero(coverage), n)
    order = np.argsort(cols.astype(np.uint16) if n <= 1 << 16 else cols, kind="stable")  # radix, as nblib
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m))])
    col_count = np.bincount(cols, minlength=n)
    col_ptr = np.concatenate([[0], np.cumsum(col_count)])
    col_rows = rows[order]
    gains = np.diff(row_ptr)
    uncovered = np.ones(n, bool)
    chosen = []
    while True:
        best = int(gains.argmax())
        if gains[best] == 0:
            return chosen
        elems = cols[row_ptr[best]:row_ptr[best + 1]]
        elems = elems[uncovered[elems]]
        uncovered[elems] = False
        chosen.append(best)
        lens = col_count[elems]
        ends = np.cumsum(lens)
        idx = np.repeat(col_ptr[elems] - (ends - lens), lens) + np.arange(ends[-1])
        np.subtract.at(gains, col_rows[idx], 1)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(size: int, density: float, seed: int, dev: torch.device, rounds: int) -> None:
    g = torch.Generator().manual_seed(seed)
    coverage = torch.rand(size, size, generator=g) < density  # (M, n) bool
    dense = coverage.numpy()
    sets = [set(np.flatnonzero(row).tolist()) for row in dense]
    on_dev = coverage.to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def ours():
        out = greedy_set_cover(on_dev).chosen
        sync()
        return out.tolist()

    contenders = {
        f"nblib greedy_set_cover ({dev.type})": ours,
        "lazy greedy (plain Python, heap)": lambda: greedy_set_cover_lazy(sets, size),
        "numpy incremental (one pick per round)": lambda: numpy_incremental(dense),
    }
    if size <= 2000:
        contenders["naive greedy (plain Python, rescans)"] = lambda: greedy_set_cover_python(sets, size)
    ours()  # warm-up (CUDA context, allocator)
    times: dict[str, list[float]] = {k: [] for k in contenders}
    picks = {}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate the order every round
            t, picks[name] = timed(contenders[name])
            times[name].append(t)
    ref = picks[names[0]]
    same = all(p == ref for p in picks.values())
    print(f"coverage {size:,} x {size:,}, density {density} ({int(coverage.sum()):,} True), {len(ref)} picks, "
          f"identical picks: {same}")
    ours_med, ours_min = statistics.median(times[names[0]]), min(times[names[0]])
    for name in names:
        med, low = statistics.median(times[name]), min(times[name])
        print(f"  {name:42s} median {med * 1e3:9.1f} ms  min {low * 1e3:9.1f} ms  "
              f"nblib speed-up {med / ours_med:6.1f}x (min/min {low / ours_min:.1f}x)")
    print()
    if not same:
        raise SystemExit("the greedy implementations disagree")


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10_000], help="candidates = elements")
    ap.add_argument("--densities", type=float, nargs="+", default=[0.002, 0.02], help="P(candidate covers element)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    args, dev = start_benchmark(ap, "rounds interleaved, order rotated")
    for size in args.sizes:
        for density in args.densities:
            run(size, density, args.seed, dev, args.rounds)


if __name__ == "__main__":
    main()
