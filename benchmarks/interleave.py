"""Interleaved timing shared by the peer benchmarks.

On a shared machine the load changes over seconds, so contenders timed one after the other
measure the load as much as the code. Here every round runs each contender once, in an order
rotated every round, and the median and min over the rounds are compared.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int, sync: Callable[[], None] = lambda: None,
                warmup: bool = True) -> dict[str, list[float]]:
    """Seconds per call of every contender, ``rounds`` values each, measured in rotated rounds."""
    names = list(contenders)
    if warmup:
        for name in names:
            contenders[name]()
        sync()
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            t0 = time.perf_counter()
            contenders[name]()
            sync()
            times[name].append(time.perf_counter() - t0)
    return times


def report(times: dict[str, list[float]], baseline: str, width: int = 40, notes: dict[str, str] | None = None) -> None:
    """One line per contender: median and min in ms, and time ratios to ``baseline``."""
    base_med, base_min = statistics.median(times[baseline]), min(times[baseline])
    for name, ts in times.items():
        med, low = statistics.median(ts), min(ts)
        note = f"  {notes[name]}" if notes and name in notes else ""
        print(f"  {name:{width}s} median {med * 1e3:9.2f} ms  min {low * 1e3:9.2f} ms  "
              f"x{med / base_med:7.2f} the {baseline} (min/min x{low / base_min:.2f}){note}")
