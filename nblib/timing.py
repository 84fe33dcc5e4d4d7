"""Timing for benchmarks: median wall time with device synchronisation (never used in tests as an assert)."""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from .runtime import describe_device, device


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


def benchmark_parser(description: str | None = None) -> argparse.ArgumentParser:
    """The command line every benchmark shares (``--device auto|cpu|cuda``); add your own options to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="auto", help="auto: CUDA when present, else CPU")
    return parser


def start_benchmark(parser: argparse.ArgumentParser, details: str = "") -> tuple[argparse.Namespace, torch.device]:
    """Parse the command line, resolve the device, seed torch with 0 and print the device line.

    Returns:
        (args, device).
    """
    args = parser.parse_args()
    dev = device(args.device)
    torch.manual_seed(0)
    print(f"device: {describe_device(dev)}" + (f"; {details}" if details else "") + "\n")
    return args, dev
