"""Layer redundancy: debiased linear CKA between consecutive blocks (``MinibatchCKA``).

The rule is notebook 03's ledger rule: a pair is redundant at debiased CKA >= 0.95 (a healthy
trained MLP's adjacent layers: 0.89). Linear CKA is 1 for outputs equal up to an orthogonal map
and isotropic scaling, so a block that only copies or rotates its input scores 1. When the same
pair scores >= 0.95 in the re-initialised copy too, the similarity comes from the architecture
(a residual path, a pooling layer) and the finding is ``info``, else ``warning``; "the same" is
within :data:`ARCH_MARGIN` (0.05) of the threshold, the spread between two random initialisations.
"""
from __future__ import annotations

import math

import torch

from .findings import FIXES, Finding

REDUNDANT_CKA = 0.95
#: ``info`` instead of ``warning`` when the architecture at initialisation is within this margin of the
#: threshold: two random initialisations of a ResNet-18 differ by ~0.04 in the CKA of layer4 -> fc.
ARCH_MARGIN = 0.05


def consecutive(cka: torch.Tensor | None, names: list[str]) -> list[tuple[str, str, float]]:
    """(a, b, CKA) for each consecutive pair of blocks."""
    if cka is None:
        return []
    return [(names[i], names[i + 1], float(cka[i, i + 1])) for i in range(len(names) - 1)]


def cka_table(model_cka, init_cka, names):
    import pandas as pd

    init = {(a, b): v for a, b, v in consecutive(init_cka, names)}
    rows = [{"pair": f"{a} -> {b}", "cka": v, "cka_init": init.get((a, b), math.nan)}
            for a, b, v in consecutive(model_cka, names)]
    return pd.DataFrame(rows, columns=["pair", "cka", "cka_init"])


def redundancy_findings(table, samples: int, threshold: float = REDUNDANT_CKA) -> list[Finding]:
    """One finding per consecutive pair at CKA >= threshold: ``warning``, or ``info`` when the architecture
    at initialisation is as similar (within :data:`ARCH_MARGIN`) or the second block is the model's last
    (a readout is a linear map of the layer before it; notebook 03's rule covers hidden layers)."""
    out = []
    for i, r in table.reset_index(drop=True).iterrows():
        if not r["cka"] >= threshold:
            continue
        arch = r["cka_init"] >= threshold - ARCH_MARGIN
        readout = i == len(table) - 1
        init = "n/a" if math.isnan(r["cka_init"]) else f"{r['cka_init']:.3f}"
        why = ("; the architecture does this at initialisation too (within 0.05)" if arch else
               "; the second block is the model's last (a readout of the first)" if readout else
               "; the second layer is (up to a rotation and scale) a copy of the first")
        out.append(Finding(
            "redundant_layers", "info" if arch or readout else "warning", r["pair"], round(r["cka"], 4), threshold,
            f"debiased CKA {r['cka']:.3f} between consecutive layers over {samples} inputs (at initialisation: {init})"
            + why, "redundancy", FIXES["redundant"]))
    return out


__all__ = ["REDUNDANT_CKA", "cka_table", "consecutive", "redundancy_findings"]
