"""Intervals behind every verdict: a t-interval over seeds, a percentile bootstrap over samples."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


# ---------------------------------------------------------------------------------------------
def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t (scipy when present; else a Cornish-Fisher expansion, < 1e-3 off for df >= 2)."""
    try:
        from scipy.stats import t
        return float(t.ppf(p, df))
    except ImportError:  # pragma: no cover - scipy ships with mlxtend
        z = math.sqrt(2) * _erfinv(2 * p - 1)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        return z + g1 / df + g2 / df**2 + g3 / df**3


def _erfinv(y: float) -> float:  # pragma: no cover - fallback only
    a = 0.147
    ln = math.log(1 - y * y)
    first = 2 / (math.pi * a) + ln / 2
    return math.copysign(math.sqrt(math.sqrt(first**2 - ln / a) - first), y)


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, list[float] | None, int]:
    """Mean and t-interval of independent replicates (seeds).

    Returns:
        (mean, [low, high] or None when n < 2, n). NaNs are dropped and not counted.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return float("nan"), None, 0
    m = float(x.mean())
    if n < 2:
        return m, None, n
    half = t_quantile(0.5 + level / 2, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return m, [m - half, m + half], n


def bootstrap_ci(values: Sequence[float], level: float = 0.95, resamples: int = 10_000, seed: int = 0,
                 statistic=np.mean) -> tuple[float, list[float] | None, int]:
    """Statistic and percentile-bootstrap interval over samples (e.g. digits, images).

    Returns:
        (statistic of all values, [low, high] or None when n < 2, n).
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return float("nan"), None, 0
    stat = float(statistic(x))
    if n < 2:
        return stat, None, n
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))                        # (resamples, n)
    boot = statistic(x[idx], axis=1)                                     # (resamples,)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return stat, [float(lo), float(hi)], n
