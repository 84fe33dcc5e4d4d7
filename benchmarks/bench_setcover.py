"""Greedy set cover on a 10,000 x 10,000 coverage matrix: tensor version against plain Python.

nblib's ``greedy_set_cover`` (bool matrix on the device; per round one argmax and a subtraction of
the newly covered columns) against ``greedy_set_cover_python`` (Python sets, each round scans all
candidates), as a ratio in one run. Both use the same tie-break, so their picks must agree.

    python benchmarks/bench_setcover.py [--device cuda] [--size 10000] [--density 0.002 0.02]
"""
from __future__ import annotations

import time

import torch

from nblib.hashing import greedy_set_cover, greedy_set_cover_python
from nblib.timing import benchmark_parser, median_time, start_benchmark


def run(size: int, density: float, seed: int, dev: torch.device) -> None:
    g = torch.Generator().manual_seed(seed)
    coverage = torch.rand(size, size, generator=g) < density  # (M, n) bool
    sets = [set(row.nonzero().flatten().tolist()) for row in coverage]
    print(f"coverage {size:,} candidates x {size:,} elements, density {density} "
          f"({int(coverage.sum()):,} True), {int(coverage.any(0).sum()):,} coverable elements")
    on_dev = coverage.to(dev)
    result = greedy_set_cover(on_dev)
    t0 = time.perf_counter()
    reference = greedy_set_cover_python(sets, size)  # seconds to minutes at full size: timed once
    t_py = time.perf_counter() - t0
    t_torch = median_time(lambda: greedy_set_cover(on_dev), dev, repeats=3, warmup=1)
    same = result.chosen.cpu().tolist() == reference
    print(f"  plain Python greedy (sets, CPU)   : {t_py * 1e3:10.1f} ms  ({len(reference)} sets chosen)")
    print(f"  nblib greedy_set_cover ({dev.type:>4})    : {t_torch * 1e3:10.1f} ms  ({len(result.chosen)} sets chosen)")
    print(f"  speed-up                          : {t_py / t_torch:.1f}x   identical picks: {same}\n")
    if not same:
        raise SystemExit("the two greedy implementations disagree")


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000, help="candidates = elements")
    ap.add_argument("--density", type=float, nargs="+", default=[0.002, 0.02], help="P(candidate covers element)")
    ap.add_argument("--seed", type=int, default=0)
    args, dev = start_benchmark(ap)
    for density in args.density:
        run(args.size, density, args.seed, dev)


if __name__ == "__main__":
    main()
