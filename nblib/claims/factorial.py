"""Two-level factorial experiments: the design, and main effects and interactions with intervals.

One-at-a-time tests change a factor from one baseline; when two factors interact (one only matters
when the other is changed), that misses it. A 2^k factorial crosses every level of every factor and
estimates each effect from *all* runs::

    cells = full_factorial({"detach": (True, False), "head": ("sigma", "logvar")})   # 4 cells
    ... train each cell for a few seeds, collect rows {factor: level, ..., "top_kl": value} ...
    effects = factorial_effects(rows, factors, "top_kl")

An effect is the classic contrast ``mean(y | factor at its second level) - mean(y | first level)``
(for an interaction A:B, the mean over runs where A and B are at the same side minus where they
differ, halved as usual so that it is on the scale of a main effect: ``2 * beta`` of the +-1 coded
regression). Its 95% t-interval uses the pooled variance of the residuals of the regression with all
estimated terms, i.e. the spread between seeds of the same cell when the model is saturated.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .intervals import t_quantile

__all__ = ["Effect", "coded_design", "factorial_effects", "full_factorial", "plot_effects"]


def full_factorial(factors: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of two levels per factor, the first level of every factor first.

    Args:
        factors: name -> (first level, second level); the first level is coded -1, the second +1.
    Returns:
        2^k dicts {name: level}, in standard (Yates) order with the first factor changing fastest.
    """
    for name, levels in factors.items():
        if len(levels) != 2:
            raise ValueError(f"factor {name!r} needs exactly 2 levels, got {len(levels)}")
    names = list(factors)
    cells = []
    for signs in itertools.product((0, 1), repeat=len(names)):
        signs = signs[::-1]  # first factor fastest
        cells.append({n: factors[n][s] for n, s in zip(names, signs)})
    return cells


def coded_design(rows: Sequence[Mapping], factors: Mapping[str, Sequence], order: int = 2) -> tuple[np.ndarray, list[str]]:
    """The +-1 model matrix of ``rows`` with an intercept, main effects and interactions up to ``order``.

    Returns:
        (X, names): X (R, 1 + terms) float, names of the columns (``"A"``, ``"A:B"``, ...; first "mean").
    """
    names = list(factors)
    coded = np.empty((len(rows), len(names)))  # (R, k)
    for j, n in enumerate(names):
        lo, hi = factors[n]
        for i, r in enumerate(rows):
            if r[n] == lo:
                coded[i, j] = -1.0
            elif r[n] == hi:
                coded[i, j] = 1.0
            else:
                raise ValueError(f"row {i}: {n}={r[n]!r} is not one of the levels {lo!r}, {hi!r}")
    cols, labels = [np.ones(len(rows))], ["mean"]
    for k in range(1, order + 1):
        for combo in itertools.combinations(range(len(names)), k):
            cols.append(np.prod(coded[:, combo], axis=1))
            labels.append(":".join(names[c] for c in combo))
    return np.stack(cols, 1), labels


@dataclass(frozen=True)
class Effect:
    """One factorial effect on the outcome's scale (second level minus first level)."""

    term: str  # "A" or "A:B"
    estimate: float
    ci: tuple[float, float]
    se: float
    df: int  # residual degrees of freedom behind the interval
    n: int  # runs behind the estimate


def factorial_effects(rows: Sequence[Mapping], factors: Mapping[str, Sequence], outcome: str,
                      order: int | None = None, level: float = 0.95) -> dict[str, Effect]:
    """Main effects and interactions of a replicated two-level factorial, with t-intervals.

    Args:
        rows: one mapping per run holding every factor's level and the ``outcome`` value.
        factors: name -> (first level, second level), as given to :func:`full_factorial`.
        outcome: the key of the response in each row (NaN rows are dropped).
        order: the highest interaction in the fitted model; default: all of them (the saturated
            model, whose residual is the between-seed spread within cells).
        level: coverage of the intervals.
    Returns:
        term -> :class:`Effect`; an effect is ``2 * beta`` of the +-1 coded least-squares fit.
    Raises:
        ValueError: when the residual has no degrees of freedom (no replicates).
    """
    rows = [r for r in rows if not np.isnan(float(r[outcome]))]
    order = len(factors) if order is None else order
    x, labels = coded_design(rows, factors, order)  # (R, p)
    y = np.array([float(r[outcome]) for r in rows])  # (R,)
    n, p = x.shape
    if np.linalg.matrix_rank(x) < p:
        raise ValueError("the design does not identify every term: some cells are missing")
    df = n - p
    if df < 1:
        raise ValueError(f"{n} runs for {p} terms leave no residual: replicate the cells (more seeds) or lower order")
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y  # (p,)
    resid = y - x @ beta
    sigma2 = float(resid @ resid) / df
    se = 2.0 * np.sqrt(np.clip(np.diag(xtx_inv), 0, None) * sigma2)  # of 2 * beta
    t = t_quantile(0.5 + level / 2, df)
    return {lab: Effect(lab, float(2 * b), (float(2 * b - t * s), float(2 * b + t * s)), float(s), df, n)
            for lab, b, s in zip(labels, beta, se) if lab != "mean"}


def plot_effects(effects: Mapping[str, Mapping[str, Effect]], titles: Mapping[str, str] | None = None,
                 band: float | None = None):
    """One panel per outcome: every term's estimate with its 95% interval, main effects on top.

    Args:
        effects: outcome -> (term -> :class:`Effect`), as returned by :func:`factorial_effects`.
        titles: outcome -> panel title (default: the outcome's key).
        band: shade [-band, band] (the "no effect" range of a rule), or None.
    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(effects), figsize=(4.2 * len(effects), 0.32 * max(len(e) for e in effects.values()) + 1.2),
                             sharey=True, squeeze=False)
    for ax, (outcome, eff) in zip(axes[0], effects.items()):
        terms = sorted(eff, key=lambda t: (t.count(":"), list(eff).index(t)))[::-1]  # main effects at the top
        est = [eff[t].estimate for t in terms]
        err = [[eff[t].estimate - eff[t].ci[0] for t in terms], [eff[t].ci[1] - eff[t].estimate for t in terms]]
        colors = ["tab:blue" if eff[t].ci[0] > 0 or eff[t].ci[1] < 0 else "tab:gray" for t in terms]
        ax.barh(range(len(terms)), est, xerr=err, color=colors, alpha=0.8, error_kw=dict(lw=1, capsize=2))
        ax.axvline(0, color="black", lw=0.6)
        if band:
            ax.axvspan(-band, band, color="tab:green", alpha=0.12, lw=0)
        ax.set_yticks(range(len(terms)), terms, fontsize=8)
        ax.set_title((titles or {}).get(outcome, outcome), fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("factorial effects (second level - first level), 95% intervals; blue: interval excludes 0", fontsize=9)
    fig.tight_layout()
    return fig
