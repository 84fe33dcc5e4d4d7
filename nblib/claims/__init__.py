"""The claims ledger: verdicts computed from intervals by stated rules, asserted, collected.

See :mod:`nblib.claims.ledger` for the record and the rules, :mod:`nblib.claims.intervals` for the
intervals, :mod:`nblib.claims.readme` for the README table generated from ``results/``.
"""
from .intervals import bootstrap_ci, mean_ci, t_quantile
from .ledger import VERDICTS, Above, Baseline, Below, Claim, ClaimsLedger, Rule, Within

__all__ = ["VERDICTS", "Above", "Baseline", "Below", "Claim", "ClaimsLedger", "Rule", "Within",
           "bootstrap_ci", "mean_ci", "t_quantile"]
