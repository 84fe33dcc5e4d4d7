"""``nblib.doctor(model, data)``: measure, judge, and rank what to try."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ..cli import InputError, one_line
from ..inspect.thresholds import reinitialised_copy
from .activations import activation_findings, layer_table, profile_report
from .findings import SEVERITIES, Finding, sort_findings
from .probe import stream
from .redundancy import REDUNDANT_CKA, cka_table, redundancy_findings
from .templates import template_findings
from .training import train_copy, training_findings
from .vae import check_vae, is_gaussian_vae, vae_findings


@dataclass
class Diagnosis:
    """What :func:`doctor` found. ``findings`` are sorted by severity (critical first)."""

    findings: list[Finding]
    layers: object                    # pandas DataFrame per site
    cka: object                       # pandas DataFrame per consecutive pair
    cka_matrix: torch.Tensor | None
    cka_matrix_init: torch.Tensor | None
    cka_names: list[str]
    training: object = None           # TrainingResult
    training_layers: object = None    # per-site census after training
    vae: object = None                # VAEResult
    meta: dict = field(default_factory=dict)

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    def codes(self, severity: str | None = None) -> set[str]:
        return {f.code for f in self.findings if severity is None or f.severity == severity}

    def find(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    @property
    def table(self):
        """Findings as a pandas DataFrame (severity, finding, layer, value, threshold, evidence, top fix)."""
        import pandas as pd

        rows = [{**f.as_row(), "fixes": " / ".join(f.fixes[:1])} for f in self.findings]
        cols = ["severity", "finding", "layer", "value", "threshold", "message", "evidence", "fixes"]
        return pd.DataFrame(rows, columns=cols + ["code"])[cols]

    def summary(self) -> str:
        counts = {s: len(self.by_severity(s)) for s in SEVERITIES}
        return ", ".join(f"{n} {s}" for s, n in counts.items())

    def to_markdown(self) -> str:
        from .report import to_markdown
        return to_markdown(self)

    def to_html(self) -> str:
        from .report import to_html
        return to_html(self)

    def save(self, report_dir):
        from .report import save
        return save(self, report_dir)

    def _repr_html_(self):
        from .report import findings_html
        return findings_html(self)


def as_tensors(data, labels=None) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    """(x float, y or None, description) from a tensor, an (x, y) pair or a LabelledImages."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        x, y, what = data.images, data.labels, getattr(data, "source", "labelled images")
    elif isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        (x, y), what = data, "tensors"
    elif isinstance(data, torch.Tensor):
        x, y, what = data, None, "tensor"
    else:
        raise InputError(f"data must be a tensor, an (inputs, labels) pair or LabelledImages, got {type(data).__name__}")
    if labels is not None:
        y = torch.as_tensor(labels)
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if x.dim() < 2 or x.shape[0] < 1:
        raise InputError(f"data of shape {tuple(x.shape)}: expected (N, ...) inputs with N >= 1")
    if y is not None:
        y = y.long().reshape(-1)
    return x, y, f"{what}, {tuple(x.shape)}"


def doctor(model: nn.Module, data, labels=None, *, train_steps: int = 0, optimizer: str = "adam", lr: float = 1e-3,
           batch_size: int = 128, train_batch_size: int = 64, loss_fn=None, init_model: nn.Module | None = None,
           profile_samples: int = 128, cka_samples: int = 512, redundant_cka: float = REDUNDANT_CKA,
           seed: int = 0, progress: bool = True, report_dir=None, device=None) -> Diagnosis:
    """Diagnose ``model`` on ``data``: dead units, activation health relative to initialisation,
    redundant layers, (with ``train_steps``) a short tracked training run, (for a Gaussian VAE) KL
    per unit, active units and the latent's gradient path.

    Args:
        model: any ``nn.Module`` (left unchanged; training runs on a copy).
        data: (N, ...) tensor, (inputs, labels) pair, or LabelledImages; uint8 is scaled to [0, 1].
        labels: (N,) class indices (needed for ``train_steps`` with the default cross-entropy).
        train_steps: minibatches of the short training run (0: none).
        optimizer, lr: "adam" (default, lr 1e-3), "adamw" or "sgd" (momentum 0.9).
        loss_fn: callable(model, x, y) -> loss for the training run (default cross-entropy).
        init_model: the architecture at initialisation (default: a re-initialised copy).
        profile_samples: inputs kept for the sparsity/entropy/diversity profile; cka_samples: for CKA.
        report_dir: if given, write report.md, report.html and the plots there.
    Returns:
        :class:`Diagnosis`.
    """
    t0 = time.perf_counter()
    x, y, what = as_tensors(data, labels)
    timings = {}
    try:
        model_pass = stream(model, x, batch_size=batch_size, profile_n=profile_samples, cka_n=cka_samples,
                            device=device, progress=progress, desc="census (model)")
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise InputError(f"the model's forward pass failed on inputs of shape {tuple(x[:1].shape)} "
                         f"({exc.__class__.__name__}: {one_line(str(exc), 160)}); give inputs of the shape the model "
                         "expects") from None
    if not model_pass.sites:
        raise InputError("no activation to measure: the model has no activation modules and no submodules")
    timings["census"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    kept: list[str] = []
    reference = "the given init_model" if init_model is not None else f"a re-initialised copy (reset_parameters, seed {seed})"
    if init_model is None:
        init_model, kept = reinitialised_copy(model, seed)
    init_pass = stream(init_model, x, batch_size=batch_size, profile_n=model_pass.profile_samples,
                       cka_n=cka_samples, blocks=model_pass.cka_names or None, device=device, progress=progress,
                       desc="census (at init)")
    timings["init_reference"] = time.perf_counter() - t1
    report = profile_report(model_pass, init_pass)
    layers = layer_table(model_pass, init_pass, report)
    findings = activation_findings(layers, model_pass.samples, batch_size)
    names = model_pass.cka_names
    init_cka = init_pass.cka if init_pass.cka_names == names else None
    cka = cka_table(model_pass.cka, init_cka, names)
    findings += redundancy_findings(cka, model_pass.extra["cka_samples"], redundant_cka)
    findings += template_findings(model)
    vae = None
    if is_gaussian_vae(model, x):
        t2 = time.perf_counter()
        vae = check_vae(model, x, batch_size, device)
        findings += vae_findings(vae, trainable=any(p.requires_grad for p in model.parameters()))
        timings["vae"] = time.perf_counter() - t2
    training = after = None
    if train_steps:
        t3 = time.perf_counter()
        training = train_copy(model, x, y, train_steps, optimizer, lr, train_batch_size, loss_fn, seed, device, progress)
        after_pass = stream(training.model, x, batch_size=batch_size, profile_n=0, cka_n=0, device=device,
                            progress=progress, desc="census (after training)")
        after = layer_table(after_pass, model_pass)
        findings += training_findings(training, model_pass.census(), after_pass.census(), model_pass.samples)
        timings["training"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    meta = {"model": type(model).__name__, "data": what, "samples": model_pass.samples,
            "profile_samples": model_pass.profile_samples, "cka_samples": model_pass.extra["cka_samples"],
            "parameters": sum(p.numel() for p in model.parameters()), "not_reinitialised": kept, "reference": reference,
            "sites_are_children": model_pass.extra["fallback_sites"], "timings": timings,
            "train": dict(steps=train_steps, optimizer=optimizer, lr=lr) if train_steps else None,
            "redundant_cka": redundant_cka}
    diag = Diagnosis(sort_findings(findings), layers, cka, model_pass.cka, init_cka, names, training, after, vae, meta)
    if report_dir is not None:
        diag.save(report_dir)
    return diag


def nan_to_none(v):
    return None if isinstance(v, float) and math.isnan(v) else v


__all__ = ["Diagnosis", "as_tensors", "doctor"]
