"""The claims ledger: intervals against scipy/numpy references, rules on planted intervals, the assert
that must fail when a verdict flips, the JSON file, and README's generated table."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from nblib.claims import Above, Baseline, Below, ClaimsLedger, Within, bootstrap_ci, mean_ci, t_quantile
from nblib.claims.readme import END, START, current_block, render_block, update_readme
from nblib.paths import REPO_ROOT
from nblib.runtime import RunClock


def test_t_interval_matches_scipy():
    x = np.array([0.91, 0.93, 0.90, 0.95, 0.92])
    m, ci, n = mean_ci(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert n == 5 and m == pytest.approx(x.mean())
    assert ci == pytest.approx([lo, hi], abs=1e-12)
    assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=1e-5)


def test_interval_edge_cases():
    assert mean_ci([0.5]) == (0.5, None, 1)
    m, ci, n = mean_ci([1.0, float("nan"), 3.0])
    assert n == 2 and m == 2.0 and ci[0] < 2.0 < ci[1]
    assert math.isnan(mean_ci([])[0])


def test_bootstrap_covers_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = rng.normal(1.0, 1.0, 20)
    large = rng.normal(1.0, 1.0, 2000)
    _, ci_s, _ = bootstrap_ci(small)
    m, ci_l, n = bootstrap_ci(large)
    assert n == 2000 and ci_l[0] < m < ci_l[1]
    assert ci_l[1] - ci_l[0] < (ci_s[1] - ci_s[0]) / 4          # width ~ 1/sqrt(n): 10x narrower
    # the normal-theory half width 1.96 * sd / sqrt(n), within 10%
    assert (ci_l[1] - ci_l[0]) / 2 == pytest.approx(1.96 * large.std(ddof=1) / math.sqrt(2000), rel=0.1)


@pytest.mark.parametrize("rule, ci, want", [
    (Above(0.9), [0.91, 0.95], "reproduced"),
    (Above(0.9), [0.85, 0.95], "partly"),
    (Above(0.9), [0.80, 0.85], "not reproduced"),
    (Below(0.1), [0.01, 0.05], "reproduced"),
    (Below(0.1), [0.2, 0.3], "not reproduced"),
    (Within(0.2, 0.4), [0.25, 0.35], "reproduced"),
    (Within(0.2, 0.4), [0.35, 0.45], "partly"),
    (Within(0.2, 0.4), [0.45, 0.55], "not reproduced"),
    (Within(0.2, 0.4), [0.05, 0.15], "not reproduced"),
    (Within(0.2, 0.4), None, "untested"),
])
def test_rules(rule, ci, want):
    assert rule.verdict(None if ci is None else sum(ci) / 2, ci) == want
    assert rule.describe()


def test_point_estimates_are_untested_unless_allowed():
    assert Above(0.5).verdict(0.9, None) == "untested"
    assert Above(0.5, point_ok=True).verdict(0.9, None) == "reproduced"
    assert Above(0.5, point_ok=True).verdict(0.1, None) == "not reproduced"


def _ledger(tmp_path, values):
    led = ClaimsLedger("99", results_dir=tmp_path)
    led.add("accuracy_above_chance", source="seed 003 §plane vs car", statement="the model learns",
            values=values, unit="accuracy", rule=Above(0.9), verdict="reproduced", expected=0.9,
            baseline=Baseline("majority class", 0.5))
    return led


def test_check_passes_when_interval_supports_the_verdict(tmp_path):
    led = _ledger(tmp_path, [0.93, 0.94, 0.95])
    led.check(quick=False)
    assert led["accuracy_above_chance"].verdict == "reproduced"


def test_check_fails_when_the_verdict_flips(tmp_path):
    # planted: the same stated verdict, a measured interval that straddles the threshold
    led = _ledger(tmp_path, [0.85, 0.93, 0.97])
    assert led["accuracy_above_chance"].verdict == "partly"
    with pytest.raises(AssertionError, match="accuracy_above_chance: stated 'reproduced'.*gives 'partly'"):
        led.check(quick=False)


def test_quick_mode_asserts_quick_verdict_only(tmp_path):
    led = ClaimsLedger("99", results_dir=tmp_path)
    led.add("x", source="s", statement="s", values=[0.1, 0.9], unit="u", rule=Above(0.5), verdict="reproduced")
    led.check(quick=True)                                      # no quick_verdict: computed, shown, not asserted
    led.add("y", source="s", statement="s", values=[0.1, 0.9], unit="u", rule=Above(0.5), verdict="reproduced",
            quick_verdict="reproduced")
    with pytest.raises(AssertionError, match="y: stated 'reproduced'"):
        led.check(quick=True)


def test_bad_records_are_refused(tmp_path):
    led = ClaimsLedger("99", results_dir=tmp_path)
    with pytest.raises(ValueError, match="snake_case"):
        led.add("Bad-Id", source="s", statement="s", values=[1, 2], unit="u", rule=Above(0), verdict="reproduced")
    with pytest.raises(ValueError, match="not one of"):
        led.add("ok", source="s", statement="s", values=[1, 2], unit="u", rule=Above(0), verdict="yes")
    led.add("ok", source="s", statement="s", values=[1, 2], unit="u", rule=Above(0), verdict="partly")
    with pytest.raises(ValueError, match="twice"):
        led.add("ok", source="s", statement="s", values=[1, 2], unit="u", rule=Above(0), verdict="partly")
    with pytest.raises(ValueError, match="two-digit"):
        ClaimsLedger("3")


def test_full_mode_writes_the_json_quick_mode_nothing(tmp_path):
    import torch
    led = _ledger(tmp_path, [0.93, 0.94, 0.95])
    assert led.finish(RunClock(), torch.device("cpu"), quick=True, show=False) is None
    assert not (tmp_path / "99_claims.json").exists()
    path = led.finish(RunClock(), torch.device("cpu"), quick=False, show=False)
    data = json.loads(path.read_text())
    assert set(data) == {"notebook", "mode", "device", "runtime_s", "claims"}
    assert data["notebook"] == "99" and data["mode"] == "full" and data["device"].startswith("cpu")
    c = data["claims"][0]
    for key in ("id", "source", "statement", "expected", "measured", "ci", "n", "unit", "baseline", "rule", "verdict"):
        assert key in c
    assert c["n"] == 3 and c["baseline"] == {"name": "majority class", "value": 0.5} and c["verdict"] == "reproduced"
    assert c["ci"][0] < c["measured"] < c["ci"][1]


def test_readme_block_is_generated_from_results(tmp_path):
    led = _ledger(tmp_path, [0.93, 0.94, 0.95])
    led.write("cpu: test", 12.0)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{START}\nstale\n{END}\n\nafter\n")
    assert update_readme(readme, tmp_path) is True
    text = readme.read_text()
    assert "`accuracy_above_chance`" in text and "reproduced" in text and "stale" not in text and "after" in text
    assert update_readme(readme, tmp_path) is False


def test_committed_readme_matches_committed_results():
    if not list((REPO_ROOT / "results").glob("[0-9][0-9]_claims.json")):
        pytest.skip("no results/ files committed yet")
    assert current_block() == render_block(), "README's verdict table is stale: run `python -m nblib.claims readme`"
