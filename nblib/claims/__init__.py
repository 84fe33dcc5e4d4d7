"""The claims ledger: verdicts computed from intervals by stated rules, asserted, collected.

See :mod:`nblib.claims.ledger` for the record and the rules, :mod:`nblib.claims.intervals` for the
intervals, :mod:`nblib.claims.readme` for the README table generated from ``results/``, :mod:`nblib.claims.factorial`
for main effects and interactions of two-level factorial experiments.
"""
from .factorial import Effect, coded_design, factorial_effects, full_factorial, plot_effects
from .intervals import bootstrap_ci, mean_ci, t_quantile
from .ledger import VERDICTS, Above, Baseline, Below, Claim, ClaimsLedger, Rule, Within

__all__ = ["VERDICTS", "Above", "Baseline", "Below", "Claim", "ClaimsLedger", "Effect", "Rule", "Within",
           "bootstrap_ci", "coded_design", "factorial_effects", "full_factorial", "mean_ci", "plot_effects", "t_quantile"]
