"""Timing for benchmarks: median wall time with device synchronisation (never used in tests as an assert)."""
from __future__ import annotations

import statistics
import time

import torch


def median_time(fn, device: torch.device, repeats: int = 7, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs, after ``warmup`` untimed runs."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
