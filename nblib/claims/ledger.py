"""The claims ledger: every verdict a notebook states, computed from an interval by a stated rule.

A notebook records each claim of the research notes it tests as a :class:`Claim`: what the notes
say, what we measured over ``n`` seeds or samples with a 95% interval, a reference reading beside it
(untrained network, null model, trivial predictor) and a :class:`Rule` that turns the interval into a
verdict. The author also *states* the verdict the prose relies on; :meth:`ClaimsLedger.check` fails
when the computed verdict differs, so nbval goes red the day a number moves enough to flip a verdict.

Full mode writes ``results/NN_claims.json``; quick mode computes and asserts the same rules at
reduced ``n`` (against ``quick_verdict`` where the notebook states one) and writes nothing.

    ledger = ClaimsLedger("03")
    ledger.add("adjacent_cka_below_one", source="002 §Core concepts 1", statement="...",
               values=per_seed_cka, unit="CKA", rule=Below(0.95), verdict="reproduced",
               baseline=Baseline("untrained network", init_cka))
    ledger.finish(clock, dev)          # table, asserts, and in full mode the JSON file
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence



from ..atomic import write_json_atomic
from ..paths import REPO_ROOT
from ..runtime import describe_device, is_quick
from .intervals import bootstrap_ci, mean_ci

VERDICTS = ("reproduced", "partly", "not reproduced", "untested")
_ID = re.compile(r"[a-z][a-z0-9_]*")


# ---------------------------------------------------------------------------------------------
# rules: interval -> verdict
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """Verdict from where the interval lies relative to a target range [low, high].

    reproduced: the whole interval lies inside the range; not reproduced: the whole interval lies
    outside it; partly: it straddles a bound. A missing interval gives ``untested``, and so does a
    point estimate alone unless ``point_ok`` (then the point decides: inside -> reproduced).
    """
    low: float = -math.inf
    high: float = math.inf
    text: str = ""
    point_ok: bool = False

    def describe(self) -> str:
        if self.text:
            return self.text
        if math.isinf(self.low):
            return f"reproduced if the 95% interval lies below {self.high:g}; not reproduced if it lies above; else partly"
        if math.isinf(self.high):
            return f"reproduced if the 95% interval lies above {self.low:g}; not reproduced if it lies below; else partly"
        return f"reproduced if the 95% interval lies within [{self.low:g}, {self.high:g}]; not reproduced if it lies outside; else partly"

    def verdict(self, measured: float | None, ci: Sequence[float] | None) -> str:
        if ci is None:
            if self.point_ok and measured is not None and not math.isnan(measured):
                return "reproduced" if self.low <= measured <= self.high else "not reproduced"
            return "untested"
        lo, hi = float(ci[0]), float(ci[1])
        if math.isnan(lo) or math.isnan(hi):
            return "untested"
        if self.low <= lo and hi <= self.high:
            return "reproduced"
        if hi < self.low or lo > self.high:
            return "not reproduced"
        return "partly"


def Above(threshold: float, text: str = "", point_ok: bool = False) -> Rule:
    """The claim holds when the quantity exceeds ``threshold``."""
    return Rule(low=threshold, text=text, point_ok=point_ok)


def Below(threshold: float, text: str = "", point_ok: bool = False) -> Rule:
    """The claim holds when the quantity stays under ``threshold``."""
    return Rule(high=threshold, text=text, point_ok=point_ok)


def Within(low: float, high: float, text: str = "", point_ok: bool = False) -> Rule:
    """The claim holds when the quantity lies in [low, high] (the notes' range, or target ± tolerance)."""
    return Rule(low=low, high=high, text=text, point_ok=point_ok)


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """The reference reading beside a measurement: untrained network, null model, trivial predictor."""
    name: str
    value: float | None

    def as_dict(self) -> dict:
        return {"name": self.name, "value": _num(self.value)}


@dataclass
class Claim:
    """One claim of the notes, measured. ``verdict`` is computed; ``stated`` is what the prose says."""
    id: str
    source: str
    statement: str
    expected: float | list | str | None
    measured: float | None
    ci: list[float] | None
    n: int
    unit: str
    baseline: Baseline | None
    rule: Rule
    stated: str
    quick_verdict: str | None = None
    note: str = ""
    verdict: str = field(init=False)

    def __post_init__(self):
        if not _ID.fullmatch(self.id):
            raise ValueError(f"claim id {self.id!r} is not snake_case (lower-case letters, digits, _)")
        for v in (self.stated, self.quick_verdict):
            if v is not None and v not in VERDICTS:
                raise ValueError(f"verdict {v!r} is not one of {VERDICTS}")
        self.verdict = self.rule.verdict(self.measured, self.ci)

    def as_dict(self) -> dict:
        return {
            "id": self.id, "source": self.source, "statement": self.statement, "expected": self.expected,
            "measured": _num(self.measured), "ci": None if self.ci is None else [_num(c) for c in self.ci],
            "n": self.n, "unit": self.unit, "baseline": None if self.baseline is None else self.baseline.as_dict(),
            "rule": self.rule.describe(), "verdict": self.verdict, "note": self.note,
        }


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


class ClaimsLedger:
    """The claims of one notebook: add, render as the closing table, assert, write.

    Args:
        notebook: the two-digit number, e.g. ``"03"``; the file is ``results/<notebook>_claims.json``.
        results_dir: where full runs write (default ``<repo>/results``).
    """

    def __init__(self, notebook: str, results_dir: str | Path | None = None):
        if not re.fullmatch(r"\d\d", notebook):
            raise ValueError(f"notebook {notebook!r}: give the two-digit number, e.g. '03'")
        self.notebook = notebook
        self.results_dir = Path(results_dir) if results_dir is not None else REPO_ROOT / "results"
        self.claims: list[Claim] = []

    def add(self, id: str, *, source: str, statement: str, unit: str, rule: Rule, verdict: str,
            values: Sequence[float] | None = None, measured: float | None = None,
            ci: Sequence[float] | None = None, n: int | None = None, interval: str = "t",
            expected=None, baseline: Baseline | None = None, quick_verdict: str | None = None,
            note: str = "") -> Claim:
        """Record a claim. Give ``values`` (one per seed or sample; the interval is computed: ``interval``
        "t" over seeds, "bootstrap" over samples) or ``measured``/``ci``/``n`` directly.

        ``verdict`` is the verdict the notebook's prose states (full mode). ``quick_verdict``, if
        given, is asserted in quick mode instead; otherwise quick mode only computes and shows it.
        """
        if any(c.id == id for c in self.claims):
            raise ValueError(f"claim id {id!r} is recorded twice")
        if values is not None:
            if measured is not None or ci is not None:
                raise ValueError("give either values or measured/ci, not both")
            measured, ci_, n_ = (bootstrap_ci if interval == "bootstrap" else mean_ci)(values)
            ci, n = ci_, n_ if n is None else n
        elif measured is None:
            raise ValueError(f"claim {id!r}: give values or measured")
        ci = None if ci is None else [float(ci[0]), float(ci[1])]
        claim = Claim(id=id, source=source, statement=statement, expected=expected, measured=measured, ci=ci,
                      n=int(n or (0 if ci is None else 1)), unit=unit, baseline=baseline, rule=rule, stated=verdict,
                      quick_verdict=quick_verdict, note=note)
        self.claims.append(claim)
        return claim

    def __getitem__(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"no claim {claim_id!r}; recorded: {[c.id for c in self.claims]}")

    def mismatches(self, quick: bool | None = None) -> list[str]:
        """Claims whose computed verdict differs from the one asserted in this mode."""
        quick = is_quick() if quick is None else quick
        bad = []
        for c in self.claims:
            want = c.quick_verdict if quick else c.stated
            if want is not None and c.verdict != want:
                ci = "none" if c.ci is None else f"[{c.ci[0]:.4g}, {c.ci[1]:.4g}]"
                bad.append(f"{c.id}: stated '{want}' but the interval {ci} (n={c.n}) gives '{c.verdict}' "
                           f"under the rule: {c.rule.describe()}")
        return bad

    def check(self, quick: bool | None = None) -> None:
        """Assert every verdict; the message lists each claim whose interval no longer supports it."""
        bad = self.mismatches(quick)
        if bad:
            raise AssertionError("verdicts no longer supported:\n  " + "\n  ".join(bad))

    def table(self):
        """The closing table as a pandas DataFrame (one row per claim)."""
        import pandas as pd

        def fmt(x):
            return "" if x is None else f"{x:.4g}"

        rows = []
        for c in self.claims:
            rows.append({
                "claim": c.id, "notes say": c.statement, "expected": "" if c.expected is None else str(c.expected),
                "measured": fmt(c.measured),
                "95% interval": "" if c.ci is None else f"[{c.ci[0]:.4g}, {c.ci[1]:.4g}]",
                "n": c.n, "unit": c.unit,
                "reference": "" if c.baseline is None else f"{c.baseline.name}: {fmt(c.baseline.value)}",
                "verdict": c.verdict, "stated": c.stated,
            })
        return pd.DataFrame(rows).set_index("claim")

    def to_dict(self, device: str, runtime_s: float, mode: str = "full") -> dict:
        return {"notebook": self.notebook, "mode": mode, "device": device, "runtime_s": round(float(runtime_s), 1),
                "claims": [c.as_dict() for c in self.claims]}

    def path(self) -> Path:
        return self.results_dir / f"{self.notebook}_claims.json"

    def write(self, device: str, runtime_s: float) -> Path:
        """Write ``results/NN_claims.json`` atomically (full runs only)."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        return write_json_atomic(self.path(), self.to_dict(device, runtime_s))

    def finish(self, clock, dev, quick: bool | None = None, show: bool = True) -> Path | None:
        """Show the table, assert every verdict, and in full mode write the JSON file.

        Args:
            clock: the notebook's :class:`nblib.RunClock` (runtime so far).
            dev: the torch device the numbers came from.
        """
        quick = is_quick() if quick is None else quick
        if show:
            try:
                from IPython.display import display
                display(self.table())
            except ImportError:  # pragma: no cover
                print(self.table().to_string())
        self.check(quick)
        if quick:
            print(f"quick mode: {len(self.claims)} verdicts computed and asserted; nothing written to results/")
            return None
        path = self.write(describe_device(dev), clock.elapsed())
        print(f"wrote {path} ({len(self.claims)} claims)")
        return path
