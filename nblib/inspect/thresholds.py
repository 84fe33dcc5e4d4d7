"""Threshold profiles for the feature report: what counts as a healthy layer.

Three profiles (``feature_report(..., profile=NAME)``):

- ``relative_to_init`` (the default whenever the report has a reference): each layer is judged
  against the same architecture at initialisation, a re-initialised copy of the model run on
  the same inputs (:func:`reinitialised_copy`). A freshly initialised BatchNorm+ReLU layer is
  half zeros by construction; only a move away from that counts. The rules
  (:data:`RELATIVE_TO_INIT`) are ours.
- ``inspection_guide``: the feature-inspection guide's healthy ranges (notebook 00): mean
  activation 0.1-2.0, sparsity 30-70%.
- ``arc_notes``: fixed numbers from the research log on the ARC slot-attention model
  (:data:`ARC_NOTES`, also :data:`DEFAULT_THRESHOLDS`); right for that model only.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

PROFILES = ("relative_to_init", "inspection_guide", "arc_notes")


@dataclass(frozen=True)
class Threshold:
    """Healthy range of one metric.

    ``verdict(v)``: "n/a" for NaN; "critical" below ``critical_below`` or above ``critical_above``;
    "ok" inside ``ok`` (inclusive); else "low" or "high".
    """

    ok: tuple[float, float]
    critical_below: float | None = None
    critical_above: float | None = None
    source: str = ""

    def verdict(self, value: float) -> str:
        if value is None or math.isnan(value):
            return "n/a"
        if (self.critical_below is not None and value < self.critical_below) or (
                self.critical_above is not None and value > self.critical_above):
            return "critical"
        if self.ok[0] <= value <= self.ok[1]:
            return "ok"
        return "low" if value < self.ok[0] else "high"

    def describe(self) -> str:
        text = f"ok in [{self.ok[0]:.3g}, {self.ok[1]:.3g}]"
        if self.critical_below is not None:
            text += f", critical below {self.critical_below:.3g}"
        if self.critical_above is not None:
            text += f", critical above {self.critical_above:.3g}"
        return text


ARC_NOTES: dict[str, Threshold] = {
    "sparsity": Threshold((0.0, 0.40), critical_above=0.50,
                          source="research log: 60.5% is 'CRITICAL' (critical above 0.5); target 'Sparsity < 40%'"),
    "spatial_diversity": Threshold((0.50, 2.0),
                                   source="research log calls 0.589 'acceptable'; the 0.5 floor is ours"),
    "mean_activation": Threshold((0.1, 2.0), source="feature-inspection guide's healthy mean 0.1-2.0 (notebook 00)"),
    "channel_entropy": Threshold((3.0, math.inf),
                                 source="research log: 'should ideally be > 3.0' (bits here; its unit is unknown)"),
    "dead_fraction": Threshold((0.0, 0.05), critical_above=0.25,
                               source="ours (the research log says 'many channels are dead' without a number)"),
}
#: The ``arc_notes`` profile (kept under its old name).
DEFAULT_THRESHOLDS = ARC_NOTES

INSPECTION_GUIDE: dict[str, Threshold] = {
    "mean_activation": Threshold((0.1, 2.0), source="feature-inspection guide: healthy mean 0.1-2.0"),
    "sparsity": Threshold((0.30, 0.70), source="feature-inspection guide: healthy sparsity 30-70%"),
}


@dataclass(frozen=True)
class RelativeRule:
    """A healthy range around the value the same layer has at initialisation.

    ``kind="shift"``: bounds are ``init + offset``. ``kind="scale"``: bounds are
    ``init + offset * max(|init|, floor)`` (for means, whose size varies by layer).
    """

    kind: str
    ok: tuple[float, float]
    critical_below: float | None = None
    critical_above: float | None = None
    floor: float = 0.05

    def at(self, init: float) -> Threshold:
        """The :class:`Threshold` for a layer whose value at initialisation is ``init``."""
        if init is None or math.isnan(init):
            return Threshold((-math.inf, math.inf), source="no value at initialisation")
        unit = max(abs(init), self.floor) if self.kind == "scale" else 1.0

        def bound(offset):
            return None if offset is None else init + offset * unit

        return Threshold((bound(self.ok[0]), bound(self.ok[1])), bound(self.critical_below), bound(self.critical_above),
                         source=f"relative to {init:.3g} at initialisation")

    def describe(self) -> str:
        unit = "" if self.kind == "shift" else f" x max(|init|, {self.floor:g})"
        text = f"ok in init + [{self.ok[0]:g}, {self.ok[1]:g}]{unit}"
        if self.critical_below is not None:
            text += f", critical below init {self.critical_below:+g}{unit}"
        if self.critical_above is not None:
            text += f", critical above init {self.critical_above:+g}{unit}"
        return text


RELATIVE_TO_INIT: dict[str, RelativeRule] = {
    "sparsity": RelativeRule("shift", (-math.inf, 0.15), critical_above=0.30),
    "dead_fraction": RelativeRule("shift", (-math.inf, 0.05), critical_above=0.25),
    "spatial_diversity": RelativeRule("shift", (-0.25, math.inf)),
    "mean_activation": RelativeRule("scale", (-2.0, 2.0), critical_below=-10.0, critical_above=10.0),
    "channel_entropy": RelativeRule("shift", (-1.0, math.inf), critical_below=-3.0),
}

FIXED_PROFILES: dict[str, dict[str, Threshold]] = {"inspection_guide": INSPECTION_GUIDE, "arc_notes": ARC_NOTES}


def reinitialised_copy(model: nn.Module, seed: int = 0) -> tuple[nn.Module, list[str]]:
    """A deep copy of ``model`` with every parameter drawn again from its initialiser.

    Calls ``reset_parameters()`` (or ``_reset_parameters()``, as ``nn.MultiheadAttention``)
    of every submodule under ``torch.manual_seed(seed)``, without touching the global RNG.
    BatchNorm running statistics are reset too. The copy keeps the original's train/eval mode.

    Returns:
        (copy, names of parameters that no initialiser covers and keep their trained values,
        e.g. a ViT's ``class_token``).
    """
    fresh = copy.deepcopy(model)
    covered: set[int] = set()
    devices = sorted({p.device.index for p in fresh.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for module in fresh.modules():
            reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
            if callable(reset):
                reset()
                covered.update(id(p) for p in module.parameters(recurse=False))
    kept = [name for name, p in fresh.named_parameters() if id(p) not in covered]
    return fresh, kept


__all__ = [
    "ARC_NOTES", "DEFAULT_THRESHOLDS", "FIXED_PROFILES", "INSPECTION_GUIDE", "PROFILES", "RELATIVE_TO_INIT",
    "RelativeRule", "Threshold", "reinitialised_copy",
]
