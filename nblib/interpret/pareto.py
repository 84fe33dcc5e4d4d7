"""The Pareto front of models scored on several axes (accuracy, gradient stability, specificity).

A model is on the front when no other model is at least as good on every axis and strictly better
on one: no other model dominates it. Notebook 07 draws the front of its candidates against a standard
CNN and airbench94.

    on_front = pareto_front(np.array([[acc, stab, spec] for ...]))          # (N,) bool
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["dominates", "pareto_front"]


def _oriented(points, maximize: bool | Sequence[bool]) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"expected (N, M) points, got shape {p.shape}")
    if np.isnan(p).any():
        raise ValueError("points contain NaN: drop or fill the models without a score first")
    sign = np.where(np.broadcast_to(np.asarray(maximize, dtype=bool), (p.shape[1],)), 1.0, -1.0)
    return p * sign  # every axis now "larger is better"


def dominates(a, b, maximize: bool | Sequence[bool] = True) -> bool:
    """True when point ``a`` is at least as good as ``b`` on every axis and strictly better on one.

    Args:
        a, b: (M,) scores.
        maximize: per axis (or one for all): larger is better (True) or smaller is better (False).
    """
    p = _oriented(np.stack([np.asarray(a, float), np.asarray(b, float)]), maximize)
    return bool((p[0] >= p[1]).all() and (p[0] > p[1]).any())


def pareto_front(points, maximize: bool | Sequence[bool] = True) -> np.ndarray:
    """Mask of the non-dominated points.

    Args:
        points: (N, M) scores of N models on M axes (no NaN).
        maximize: per axis (or one for all): larger is better (True) or smaller is better (False).
    Returns:
        (N,) bool: True where no other point dominates. Duplicated points do not dominate each
        other, so both stay on the front.
    """
    p = _oriented(points, maximize)
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    geq = (p[:, None, :] >= p[None, :, :]).all(-1)  # (N, N): i at least as good as j everywhere
    gt = (p[:, None, :] > p[None, :, :]).any(-1)    # (N, N): i strictly better somewhere
    dominated = (geq & gt).any(0)                    # j dominated by some i
    return ~dominated
