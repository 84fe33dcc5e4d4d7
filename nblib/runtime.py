"""Run-time plumbing shared by every notebook: seeds, device, quick mode, run reports.

Quick mode (env ``NBLIB_QUICK=1``, set by CI and by ``tests/conftest.py``) shrinks a
notebook to a smoke run; full mode is the real experiment. A notebook keeps one code
path and only swaps sizes, through :func:`resolve_params`.
"""
from __future__ import annotations

import os
import platform
import random
import time
from types import SimpleNamespace

import numpy as np
import torch

QUICK_ENV = "NBLIB_QUICK"


def is_quick() -> bool:
    """True when ``NBLIB_QUICK`` is set to a truthy value (1, true, yes, on)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch (all devices).

    Args:
        seed: the seed.
        deterministic: also ask torch for deterministic kernels (slower; cuDNN
            autotuning off). Ops without a deterministic version then warn.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds every CUDA device too
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic (CUDA >= 10.2).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False


def device(prefer: str | torch.device = "auto") -> torch.device:
    """The device to run on: ``"auto"`` picks CUDA when present, else CPU.

    An explicit ``"cuda"`` on a machine without CUDA raises instead of silently
    falling back, so a full-scale run never ends up on the CPU by accident.
    """
    if isinstance(prefer, torch.device):
        prefer = str(prefer)
    prefer = prefer.lower()
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if prefer.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {prefer!r} requested but torch sees no CUDA device; "
            "use device='auto' or 'cpu'."
        )
    return torch.device(prefer)


def resolve_params(full: dict, quick: dict | None = None, *, verbose: bool = True) -> SimpleNamespace:
    """Merge a notebook's parameters with its quick-mode overrides.

    Args:
        full: the full-mode parameters (the ``parameters`` cell's dict).
        quick: the keys to replace in quick mode; every key must exist in ``full``.
    Returns:
        A namespace with the parameters in force plus ``quick`` (bool).
    """
    quick = quick or {}
    unknown = sorted(set(quick) - set(full))
    if unknown:
        raise KeyError(f"quick overrides name unknown parameters {unknown}; known: {sorted(full)}")
    if "quick" in full:
        raise KeyError("'quick' is reserved: quick mode comes from the NBLIB_QUICK environment variable")
    q = is_quick()
    merged = {**full, **(quick if q else {}), "quick": q}
    if verbose:
        mode = "QUICK (smoke run, NBLIB_QUICK=1)" if q else "FULL (the real experiment)"
        print(f"mode: {mode}")
    return SimpleNamespace(**merged)


def describe_device(dev: torch.device) -> str:
    """One line naming the hardware, e.g. ``cuda: NVIDIA H100 80GB HBM3``."""
    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}"
    return f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, torch {torch.__version__}"


class RunClock:
    """Wall-clock of a notebook run, for the closing statement of device, data and runtime."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def report(self, dev: torch.device, data: list[str] | str, quick: bool | None = None) -> str:
        quick = is_quick() if quick is None else quick
        data = [data] if isinstance(data, str) else list(data)
        lines = [
            f"mode:    {'quick (smoke run)' if quick else 'full'}",
            f"device:  {describe_device(dev)}",
            *[f"data:    {d}" for d in data],
            f"runtime: {self.elapsed():.0f} s ({self.elapsed() / 60:.1f} min)",
        ]
        return "\n".join(lines)
