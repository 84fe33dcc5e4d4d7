"""Units collapsed onto one template: the filters of a Conv layer pointing the same way.

Notebook 05 measured a class's units collapsing onto one template (unit diversity of their gradient
pictures 0.98 -> 0.31 with positive weights). The doctor's cheap proxy needs no gradients: the same
:func:`~nblib.interpret.metrics.unit_diversity` (1 - mean cosine with the other units) of each Conv
layer's flattened filters. Random filters score ~1; copies of one template 0. ``info`` only: it is a
proxy, and a layer of positive weights scores low by construction.
"""
from __future__ import annotations

from torch import nn

from ..interpret.metrics import unit_diversity
from .findings import FIXES, Finding

COLLAPSED_DIVERSITY = 0.5


def template_findings(model: nn.Module, threshold: float = COLLAPSED_DIVERSITY) -> list[Finding]:
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd) and m.out_channels >= 4:
            d = float(unit_diversity(m.weight.detach()).mean())
            if d < threshold:
                out.append(Finding("collapsed_templates", "info", name, round(d, 4), threshold,
                                   f"the {m.out_channels} filters of {name} have mean diversity {d:.2f} (1 - mean cosine "
                                   "with the others; random filters ~1): they copy one template.",
                                   "templates", FIXES["diversity"][1:] + ("re-initialise the layer; drop weight constraints "
                                                                          "(positive weights) that pull filters together",)))
    return out


__all__ = ["COLLAPSED_DIVERSITY", "template_findings"]
