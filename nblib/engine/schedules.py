"""Training-recipe helpers: a learning-rate schedule with linear warm-up, and a plateau check.

    lr_at_step(step, steps, warmup=50, schedule="cosine")   # multiplier of the peak rate
    tail_change(losses)                                     # relative drop over the last 10% of steps
"""
from __future__ import annotations

import math

import numpy as np
import torch

SCHEDULES = ("constant", "cosine", "linear")


def lr_at_step(step: int, steps: int, warmup: int = 0, schedule: str = "constant", final_fraction: float = 0.0) -> float:
    """Learning-rate multiplier (of the peak rate) at optimizer step ``step`` (0-based) of ``steps``.

    Linear warm-up ``(step + 1) / warmup`` over the first ``warmup`` steps, then ``schedule``
    from 1 at step ``warmup`` to ``final_fraction`` at the last step: "constant" (stays 1),
    "cosine" (half a cosine) or "linear".
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    span = max(steps - 1 - warmup, 1)
    progress = min(max((step - warmup) / span, 0.0), 1.0)  # 0 after warm-up .. 1 at the last step
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if schedule == "cosine" else 1 - progress
    return final_fraction + (1 - final_fraction) * shape


def tail_change(values, tail: float = 0.1, window: float = 0.05) -> float:
    """Relative decrease of a loss curve over its last ``tail`` of steps (positive: still falling).

    Compares the mean over the ``window`` fraction of steps that ends where the tail starts with
    the mean over the last ``window`` fraction: ``(before - end) / before``. Windows average out
    batch-to-batch noise; give ``window=0`` for a curve of checkpoints (single points then).

    Args:
        values: (T,) losses in step order (tensor, array or list).
    """
    if isinstance(values, torch.Tensor):
        v = values.detach().cpu().double().flatten()
    else:
        v = torch.from_numpy(np.array(values, dtype=np.float64)).flatten()
    t = v.numel()
    if t < 2:
        raise ValueError(f"need at least 2 values, got {t}")
    w = max(1, round(window * t))
    start = min(max(round((1 - tail) * t), w), t - 1)  # first index of the tail
    before, end = v[start - w:start].mean(), v[t - w:].mean()
    return float((before - end) / before)
