"""A feature report: per-layer activation health with a verdict per metric, for any model.

    report = feature_report(cache, mask=grids.mask)          # cache: name -> (N, C, *spatial)
    report = FeatureReport.from_model(model, x, layers=["encoder.blocks.*"], mask=mask)
    report.table            # numbers: mean and std over samples of each metric, dead channels
    report.verdicts         # "ok" / "low" / "high" / "critical" / "n/a" per layer and metric
    print(report.to_markdown())
    plot_report(report)

Per sample (an image, an ARC grid) and over its valid positions only (``mask``):
- ``sparsity``: fraction of values with |a| <= eps (over channels and valid positions);
- ``spatial_diversity``: :func:`nblib.inspect.stats.spatial_diversity` with the mask;
- ``mean_activation``: mean value (over channels and valid positions);
- ``channel_entropy``: bits, mean over channels of the entropy of each channel's ``bins``-bin
  histogram over the sample's valid positions (as :func:`~nblib.inspect.stats.channel_entropy`,
  which has no mask);
and over the whole dataset ``dead_channels``: channels with |a| <= eps at every valid position
of every sample (``dead_fraction`` = dead / channels). The table gives the mean and the std over
samples. Layers without spatial dims, (N, C), have per-sample sparsity and mean; their entropy is
each channel's histogram over samples (std over channels) and their diversity is NaN.

Verdicts come from a threshold profile (:mod:`nblib.inspect.thresholds`), named in
``report.profile`` and in the Markdown: ``relative_to_init`` (default whenever there is a
reference) judges each layer against the same layer of the architecture at initialisation
(:meth:`FeatureReport.from_model` runs a re-initialised copy on the same inputs);
``inspection_guide`` and ``arc_notes`` are fixed numbers from the feature-inspection guide and
the ARC research log. Without a reference, :func:`feature_report` uses ``arc_notes`` and says so.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from .hooks import NamesFilter, run_with_cache
from .stats import (DEFAULT_BINS, DEFAULT_EPS, _check, _valid_positions, channel_entropy, masked_channel_entropy,
                    masked_dead_channels, masked_mean, masked_sparsity, spatial_diversity)
from .thresholds import (
    DEFAULT_THRESHOLDS,
    FIXED_PROFILES,
    PROFILES,
    RELATIVE_TO_INIT,
    Threshold,
    reinitialised_copy,
)

METRICS = ("sparsity", "spatial_diversity", "mean_activation", "channel_entropy", "dead_fraction")
VERDICTS = ("ok", "low", "high", "critical", "n/a")


def layer_metrics(x: torch.Tensor, mask: torch.Tensor | None = None, eps: float = DEFAULT_EPS,
                  bins: int = DEFAULT_BINS) -> dict[str, torch.Tensor]:
    """Per-sample metrics of one layer: (N,) tensors (entropy (C,) for (N, C) layers) and dead (C,)."""
    x = _check(x.detach())
    if x.dim() == 2:  # no spatial dims: per-sample numbers over channels
        return {"sparsity": (x.abs() <= eps).float().mean(1), "mean_activation": x.float().mean(1),
                "channel_entropy": channel_entropy(x, bins), "spatial_diversity": torch.full((x.shape[0],), math.nan),
                "dead": masked_dead_channels(x, eps=eps)}
    return {
        "sparsity": masked_sparsity(x, mask, eps),
        "spatial_diversity": spatial_diversity(x, _valid_positions(x, mask).bool() if mask is not None else None),
        "mean_activation": masked_mean(x, mask),
        "channel_entropy": masked_channel_entropy(x, mask, bins).mean(1),
        "dead": masked_dead_channels(x, mask, eps),
    }


def _summary_row(metrics: dict[str, torch.Tensor], dead: torch.Tensor) -> dict:
    """Mean and std over samples of each metric, dead channels and their fraction."""
    row: dict[str, object] = {}
    for key in ("sparsity", "spatial_diversity", "mean_activation", "channel_entropy"):
        row[key], row[f"{key}_std"] = _mean_std(metrics[key].cpu())
    row["dead_channels"], row["channels"] = int(dead.sum()), dead.numel()
    row["dead_fraction"] = row["dead_channels"] / max(row["channels"], 1)
    row["samples"] = metrics["sparsity"].numel()
    return row


def _mean_std(v: torch.Tensor) -> tuple[float, float]:
    v = v[~v.isnan()].double()
    if v.numel() == 0:
        return math.nan, math.nan
    return v.mean().item(), v.std(unbiased=False).item()


@dataclass
class FeatureReport:
    """Per-layer metrics with verdicts. Build with :func:`feature_report` or :meth:`from_model`.

    Attributes:
        per_sample: layer -> metric -> (N,) values per sample (entropy of (N, C) layers: (C,)).
        dead: layer -> (C,) bool dead channels over all samples.
        thresholds: metric -> :class:`Threshold` of a fixed profile (unused by ``relative_to_init``).
        profile: the threshold profile the verdicts use.
        reference: layer -> metric -> value of the same layer at initialisation (``relative_to_init``).
        not_reinitialised: parameters the re-initialised copy kept (no initialiser covers them).
    """

    per_sample: dict[str, dict[str, torch.Tensor]]
    dead: dict[str, torch.Tensor]
    thresholds: Mapping[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    eps: float = DEFAULT_EPS
    bins: int = DEFAULT_BINS
    profile: str = "arc_notes"
    reference: dict[str, dict[str, float]] | None = None
    not_reinitialised: list[str] = field(default_factory=list)

    @classmethod
    def from_model(cls, model: torch.nn.Module, *inputs, layers: NamesFilter = None, mask=None,
                   profile: str = "relative_to_init", init_model: torch.nn.Module | None = None, seed: int = 0,
                   **kwargs):
        """Run ``model(*inputs)`` once with hooks on ``layers`` and report on what they produce.

        With ``profile="relative_to_init"`` (default) the same inputs also go through the
        architecture at initialisation: ``init_model`` if given (e.g. the constructor called
        again, for models with their own init scheme), else :func:`reinitialised_copy`
        (``reset_parameters()`` of every submodule, seeded by ``seed``).
        """
        _, cache = run_with_cache(model, *inputs, names_filter=layers)
        if profile != "relative_to_init":
            return feature_report(cache, mask=mask, profile=profile, **kwargs)
        kept: list[str] = []
        if init_model is None:
            init_model, kept = reinitialised_copy(model, seed)
        _, init_cache = run_with_cache(init_model, *inputs, names_filter=list(cache))
        report = feature_report(cache, mask=mask, reference=init_cache, profile=profile, **kwargs)
        report.not_reinitialised = kept
        return report

    def threshold(self, layer: str, metric: str) -> Threshold | None:
        """The threshold that judges ``metric`` of ``layer`` under this report's profile."""
        if self.profile == "relative_to_init":
            rule = RELATIVE_TO_INIT.get(metric)
            return rule.at(self.reference[layer][metric]) if rule is not None else None
        return self.thresholds.get(metric)

    @property
    def table(self):
        """pandas DataFrame, one row per layer: each metric's mean and ``*_std`` over samples,
        ``dead_channels``, ``channels``, ``samples``, one ``*_verdict`` column per metric and,
        for ``relative_to_init``, one ``*_init`` column per metric (the value at initialisation)."""
        import pandas as pd

        rows = {}
        for layer in self.per_sample:
            row = _summary_row(self.per_sample[layer], self.dead[layer])
            for key in METRICS:
                if self.reference is not None and layer in self.reference:
                    row[f"{key}_init"] = self.reference[layer][key]
                th = self.threshold(layer, key)
                row[f"{key}_verdict"] = th.verdict(row[key]) if th is not None else "n/a"
            rows[layer] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    @property
    def verdicts(self):
        """DataFrame of verdict strings, layers x metrics."""
        t = self.table
        return t[[f"{k}_verdict" for k in METRICS]].rename(columns=lambda c: c.removesuffix("_verdict"))

    def formatted(self, digits: int = 3):
        """Display table: "mean ± std (verdict)" per metric, dead channels as "d / C (verdict)"."""
        import pandas as pd

        t = self.table
        out = pd.DataFrame(index=t.index)
        for key in ("sparsity", "spatial_diversity", "mean_activation", "channel_entropy"):
            out[key] = [f"{m:.{digits}f} ± {s:.{digits}f} ({v})" if not math.isnan(m) else "n/a"
                        for m, s, v in zip(t[key], t[f"{key}_std"], t[f"{key}_verdict"])]
        out["dead channels"] = [f"{d} / {c} ({v})" for d, c, v in zip(t["dead_channels"], t["channels"], t["dead_fraction_verdict"])]
        return out

    def to_markdown(self, digits: int = 3, thresholds: bool = True) -> str:
        """The formatted table as Markdown, followed by the profile, its thresholds and their sources."""
        text = self.formatted(digits).to_markdown()
        if thresholds:
            if self.profile == "relative_to_init":
                lines = [f"- `{k}`: {rule.describe()}" for k, rule in RELATIVE_TO_INIT.items()]
                head = ("Threshold profile `relative_to_init`: each layer against the same layer of the "
                        "architecture at initialisation, on the same inputs (our rules)")
                if self.not_reinitialised:
                    head += f"; kept their values (no initialiser): {', '.join(self.not_reinitialised[:6])}"
            else:
                lines = [f"- `{k}`: {t.describe()}" + (f" ({t.source})" if t.source else "")
                         for k, t in self.thresholds.items()]
                head = f"Threshold profile `{self.profile}`"
                if self.profile == "arc_notes":
                    head += (" (fixed numbers from the ARC research log; for other models pass a reference "
                             "or use FeatureReport.from_model, which judges relative to initialisation)")
            text += (f"\n\nMean ± std over samples, valid positions only; sparsity: |a| <= {self.eps:g}; "
                     f"entropy: bits, {self.bins}-bin histograms. {head}:\n" + "\n".join(lines))
        return text


def feature_report(activations: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None,
                   eps: float = DEFAULT_EPS, bins: int = DEFAULT_BINS,
                   thresholds: Mapping[str, Threshold] | None = None, profile: str | None = None,
                   reference: Mapping[str, torch.Tensor] | None = None) -> FeatureReport:
    """Feature report of captured activations.

    Args:
        activations: layer name -> (N, C, *spatial) or (N, C), e.g. an ``ActivationCache``.
        mask: optional (N, *spatial) bool valid positions (an ARC grid's cells), at the input's
            resolution; resized (nearest) to layers of another resolution.
        eps: |a| <= eps counts as inactive. bins: histogram bins for the entropy.
        thresholds: metric -> :class:`Threshold`, a custom fixed profile (``profile`` "custom").
        profile: "relative_to_init", "inspection_guide" or "arc_notes". Default:
            "relative_to_init" when ``reference`` is given, else "arc_notes".
        reference: layer -> activations of the same layers at initialisation on the same
            inputs (see :meth:`FeatureReport.from_model`, which builds them).
    """
    if not activations:
        raise ValueError("no activations to report on: capture some layers first (run_with_cache / Inspector)")
    if thresholds is not None:
        profile = profile or "custom"
    profile = profile or ("relative_to_init" if reference is not None else "arc_notes")
    if profile not in PROFILES and not (profile == "custom" and thresholds is not None):
        raise ValueError(f"unknown threshold profile {profile!r}; use one of {', '.join(PROFILES)}")
    if profile == "relative_to_init" and reference is None:
        raise ValueError("profile 'relative_to_init' needs reference= activations of the model at initialisation "
                         "on the same inputs; FeatureReport.from_model(model, x) builds them")
    per_sample, dead = _measure(activations, mask, eps, bins)
    ref_rows = None
    if reference is not None:
        missing = [n for n in activations if n not in reference]
        if missing:
            raise ValueError(f"reference lacks layers {', '.join(missing)}; capture the same layers at initialisation")
        ref_ps, ref_dead = _measure({n: reference[n] for n in activations}, mask, eps, bins)
        ref_rows = {n: _summary_row(ref_ps[n], ref_dead[n]) for n in activations}
    th = dict(thresholds if thresholds is not None else FIXED_PROFILES.get(profile, DEFAULT_THRESHOLDS))
    return FeatureReport(per_sample, dead, th, eps, bins, profile, ref_rows)


def _measure(activations, mask, eps, bins):
    per_sample, dead = {}, {}
    for name, x in activations.items():
        m = layer_metrics(x, mask, eps, bins)
        dead[name] = m.pop("dead").cpu()
        per_sample[name] = {k: v.cpu() for k, v in m.items()}
    return per_sample, dead
