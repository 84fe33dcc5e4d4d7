"""Activation health per site: dead-unit census over all the data, and sparsity, entropy and spatial
diversity against the same architecture at initialisation (the feature report's ``relative_to_init``
profile, :mod:`nblib.inspect.thresholds`).
"""
from __future__ import annotations

import math

from ..inspect.report import feature_report
from ..inspect.thresholds import RELATIVE_TO_INIT
from .findings import FIXES, Finding
from .probe import PassResult

#: A layer with at least this fraction of dead units is critical even when the architecture at
#: initialisation has them too (the relative rule judges only moves away from initialisation).
ABSOLUTE_DEAD = 0.5
#: ``warning`` needs this excess of dead units over initialisation (the ``relative_to_init`` rule's 0.05 is
#: within seed noise: two random initialisations of ResNet-18 differ by 0.05-0.08 in layer4's dead
#: fraction on 1,000 CIFAR-10 images, where its maps are 1 x 1); ``critical`` keeps the rule's 0.25.
DEAD_WARNING_MARGIN = 0.10


def layer_table(model_pass: PassResult, init_pass: PassResult, report=None):
    """pandas DataFrame, one row per site: dead units (all data, first batch, at init), sparsity and
    the feature report's metrics with their values at initialisation."""
    import pandas as pd

    cm, ci = model_pass.census(), init_pass.census()
    rows = {}
    for label, c in cm.items():
        init = ci.get(label)
        row = {"where": c["where"], "kind": c["kind"], "units": c["channels"], "dead": int(c["dead"].sum()),
               "dead_fraction": float(c["dead"].float().mean()), "dead_first_batch": c["first_batch_dead"],
               "dead_fraction_init": float(init["dead"].float().mean()) if init else math.nan,
               "sparsity": c["sparsity"], "sparsity_init": init["sparsity"] if init else math.nan}
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    if report is not None:
        t = report.table
        for key in ("channel_entropy", "spatial_diversity"):
            table[key] = t[key].reindex(table.index)
            table[f"{key}_init"] = t[f"{key}_init"].reindex(table.index)
            table[f"{key}_verdict"] = t[f"{key}_verdict"].reindex(table.index)
        table["sparsity_verdict"] = t["sparsity_verdict"].reindex(table.index)
    return table


def profile_report(model_pass: PassResult, init_pass: PassResult, eps: float = 1e-6):
    """The feature report (relative_to_init) on the profile samples, or None without any."""
    names = [n for n in model_pass.profile if n in init_pass.profile
             and model_pass.profile[n].shape == init_pass.profile[n].shape]
    if not names:
        return None
    return feature_report({n: model_pass.profile[n] for n in names}, eps=eps,
                          reference={n: init_pass.profile[n] for n in names}, profile="relative_to_init")


def activation_findings(table, samples: int, batch_size: int) -> list[Finding]:
    """Dead units (census, relative to init) and feature-report verdicts -> findings."""
    rule = RELATIVE_TO_INIT["dead_fraction"]
    out: list[Finding] = []
    for label, r in table.iterrows():
        init = 0.0 if math.isnan(r["dead_fraction_init"]) else r["dead_fraction_init"]
        th = rule.at(init)
        verdict = th.verdict(r["dead_fraction"])
        if verdict == "high" and r["dead_fraction"] - init < DEAD_WARNING_MARGIN:
            verdict = "ok"  # within the spread between two random initialisations
        th = type(th)((th.ok[0], init + DEAD_WARNING_MARGIN), th.critical_below, th.critical_above, th.source)
        one_batch = ""
        if r["dead_first_batch"] > r["dead"]:
            one_batch = (f" One batch of {min(batch_size, samples)} inputs would have called {r['dead_first_batch']} "
                         f"dead: the census over all {samples} inputs is what counts.")
        if verdict != "critical" and r["dead_fraction"] >= ABSOLUTE_DEAD:  # dead at init too: broken by construction
            verdict, th = "critical", type(th)(th.ok, critical_above=ABSOLUTE_DEAD)
            one_batch += " Dead at initialisation too: the construction (bias, input scale) is broken, not training."
        if verdict in ("critical", "high"):
            out.append(Finding(
                "dead_units", "critical" if verdict == "critical" else "warning", r["where"], round(r["dead_fraction"], 4),
                th.critical_above if verdict == "critical" else th.ok[1],
                f"{r['dead']} of {r['units']} units never activate over all {samples} inputs "
                f"({r['dead_fraction']:.0%}; the same architecture at initialisation: {init:.0%}).{one_batch}",
                "census", FIXES["dead_units"]))
        if r.get("sparsity_verdict") == "critical" and verdict != "critical":
            out.append(Finding(
                "excess_sparsity", "warning", r["where"], round(r["sparsity"], 4),
                RELATIVE_TO_INIT["sparsity"].at(r["sparsity_init"]).critical_above,
                f"{r['sparsity']:.0%} of values are zero vs {r['sparsity_init']:.0%} for the same architecture at "
                "initialisation on the same inputs.", "init_reference", FIXES["sparsity"]))
        if r.get("channel_entropy_verdict") == "critical" and verdict != "critical":
            out.append(Finding(
                "low_entropy", "warning", r["where"], round(r["channel_entropy"], 3),
                RELATIVE_TO_INIT["channel_entropy"].at(r["channel_entropy_init"]).critical_below,
                f"channel entropy {r['channel_entropy']:.2f} bits vs {r['channel_entropy_init']:.2f} at initialisation.",
                "init_reference", FIXES["entropy"]))
        if r.get("spatial_diversity_verdict") == "low":
            out.append(Finding(
                "low_spatial_diversity", "info", r["where"], round(r["spatial_diversity"], 3),
                RELATIVE_TO_INIT["spatial_diversity"].at(r["spatial_diversity_init"]).ok[0],
                f"spatial diversity {r['spatial_diversity']:.2f} vs {r['spatial_diversity_init']:.2f} at "
                "initialisation: positions look alike.", "init_reference", FIXES["diversity"]))
    return out


__all__ = ["activation_findings", "layer_table", "profile_report"]
