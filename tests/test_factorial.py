"""Factorial effects against brute-force contrasts, a planted interaction and scipy's t-interval."""
import itertools

import numpy as np
import pytest
from scipy import stats

from nblib.claims import factorial_effects, full_factorial

FACTORS = {"A": (False, True), "B": ("sigma", "logvar"), "C": (0, 2)}


def _rows(seeds=3, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cell in full_factorial(FACTORS):
        a = 1 if cell["A"] else -1
        b = 1 if cell["B"] == "logvar" else -1
        for _ in range(seeds):  # planted: A +3 (effect 6), B 0, C -1 (effect -2), A:B +1 (effect 2)
            c = 1 if cell["C"] == 2 else -1
            rows.append({**cell, "y": 10 + 3 * a - 1 * c + 1 * a * b + rng.normal(0, noise)})
    return rows


def test_full_factorial_is_every_combination_once():
    cells = full_factorial(FACTORS)
    assert len(cells) == 8
    assert {tuple(c.values()) for c in cells} == set(itertools.product(*FACTORS.values()))
    assert cells[0] == {"A": False, "B": "sigma", "C": 0} and cells[1]["A"] is True  # first factor fastest
    with pytest.raises(ValueError, match="exactly 2 levels"):
        full_factorial({"A": (1, 2, 3)})


def test_main_effects_equal_brute_force_differences_of_means():
    rows = _rows()
    eff = factorial_effects(rows, FACTORS, "y")
    for name, (lo, hi) in FACTORS.items():
        diff = np.mean([r["y"] for r in rows if r[name] == hi]) - np.mean([r["y"] for r in rows if r[name] == lo])
        assert eff[name].estimate == pytest.approx(diff, abs=1e-9)
    same = [r["y"] for r in rows if (r["A"] is True) == (r["B"] == "logvar")]
    differ = [r["y"] for r in rows if (r["A"] is True) != (r["B"] == "logvar")]
    assert eff["A:B"].estimate == pytest.approx(np.mean(same) - np.mean(differ), abs=1e-9)


def test_planted_effects_are_found_and_null_ones_cover_zero():
    eff = factorial_effects(_rows(seeds=4, noise=0.3), FACTORS, "y")
    assert eff["A"].ci[0] > 5 and eff["A"].ci[1] < 7
    assert eff["C"].ci[1] < 0 and eff["A:B"].ci[0] > 1
    for term in ("B", "A:C", "B:C", "A:B:C"):  # null terms: within 4 standard errors of 0
        assert abs(eff[term].estimate) < 4 * eff[term].se


def test_null_intervals_cover_zero_about_95_percent_of_the_time():
    hits = [factorial_effects(_rows(seeds=2, seed=s), FACTORS, "y")["B"] for s in range(400)]
    coverage = np.mean([e.ci[0] < 0 < e.ci[1] for e in hits])
    assert 0.92 < coverage < 0.98


def test_interval_is_the_pooled_within_cell_t_interval():
    rows = _rows(seeds=3)
    eff = factorial_effects(rows, FACTORS, "y")  # saturated: residual = spread within cells
    cells = {}
    for r in rows:
        cells.setdefault(tuple(r[k] for k in FACTORS), []).append(r["y"])
    pooled = np.mean([np.var(v, ddof=1) for v in cells.values()])
    n, df = len(rows), len(rows) - len(cells)
    se = 2 * np.sqrt(pooled / n)  # a difference of two means of n/2 runs each
    half = stats.t.ppf(0.975, df) * se
    assert eff["A"].df == df and eff["A"].se == pytest.approx(se)
    assert eff["A"].ci[1] - eff["A"].estimate == pytest.approx(half)


def test_unreplicated_or_incomplete_designs_are_refused():
    with pytest.raises(ValueError, match="no residual"):
        factorial_effects(_rows(seeds=1), FACTORS, "y")
    assert "A:B:C" not in factorial_effects(_rows(seeds=1), FACTORS, "y", order=2)
    with pytest.raises(ValueError, match="cells are missing"):
        factorial_effects([r for r in _rows() if r["A"]], FACTORS, "y")
    with pytest.raises(ValueError, match="not one of the levels"):
        factorial_effects([{**_rows()[0], "A": "maybe"}] + _rows(), FACTORS, "y")


def test_plot_effects_draws_one_panel_per_outcome():
    import matplotlib
    matplotlib.use("Agg")
    from nblib.claims import plot_effects
    eff = factorial_effects(_rows(), FACTORS, "y")
    fig = plot_effects({"y": eff, "y2": eff}, band=0.5)
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) >= len(eff)
