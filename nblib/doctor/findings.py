"""Findings: what is wrong, how sure we are, which notebook's evidence says so, and what to try.

Every rule of the doctor produces :class:`Finding` objects. A finding carries its severity
(``critical``, ``warning``, ``info``), the number behind it and the threshold it crossed, the
notebook and claim id of the measured evidence behind the rule (:data:`EVIDENCE`), and fixes
ranked by that evidence (first = best supported).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Evidence:
    """Where the rule's evidence was measured.

    Attributes:
        notebook: path of the notebook in this repository.
        claims: claim ids of the notebook's claims ledger (``results/NN_claims.json``), if any.
        summary: the measured result, in one sentence.
    """

    notebook: str
    claims: tuple[str, ...]
    summary: str

    def cite(self) -> str:
        ids = f" (claims: {', '.join(self.claims)})" if self.claims else ""
        return f"{self.notebook}{ids}"


EVIDENCE: dict[str, Evidence] = {
    "census": Evidence(
        "notebooks/00_feature_inspection.ipynb", (),
        "one frame shows 62 of ResNet-18 layer4's 512 channels 'dead' that a 512-frame census shows alive: "
        "dead units are counted over all the given data, never one batch"),
    "init_reference": Evidence(
        "notebooks/01_dying_relu_arc.ipynb", ("baseline_dead_channels", "fix_leaky_relu_channel_entropy"),
        "51% zeros after BatchNorm+ReLU is the architecture at initialisation (51.0% untrained): sparsity, "
        "entropy and dead units are judged against a re-initialised copy on the same inputs"),
    "redundancy": Evidence(
        "notebooks/03_mlp_layer_correlations.ipynb", ("adjacent_layers_not_redundant_*",),
        "adjacent layers of a healthy trained MLP have debiased CKA 0.89 (untrained 0.72-0.83); "
        "the ledger's rule calls a pair redundant at debiased CKA >= 0.95"),
    "adam_dead": Evidence(
        "notebooks/04_optimization_insight.ipynb", ("adam_kills_more_fc1_units_than_sgd", "adam_zero_gradients_are_dead_units"),
        "Adam at lr 1e-3 kills ~45% of SimpleCNN fc1's ReLU units within 100 steps; >80% of its zero-gradient "
        "components belong to dead units"),
    "sgd_transient": Evidence(
        "notebooks/04_optimization_insight.ipynb", ("sgd_zero_gradients_are_not_dead_units",),
        "under SGD the zero gradients are mostly transient: released again within a few steps, not dead units"),
    "vae_detach": Evidence(
        "notebooks/02_csvae_mu_collapse.ipynb", ("detach_main_effect_top_kl",),
        "detach() in the CSVAE's top-down pass starved the top layer: KL <= 0.003 nats and 0 of 4 units active in "
        "every cell of a 2^4 factorial that keeps it; removing it raises the top KL by 2.6 [2.0, 3.3] nats, 2-4 of "
        "4 units active (active: Var_x(mu) > 0.01, Burda et al. 2016)"),
    "templates": Evidence(
        "notebooks/05_interpretable_gradients.ipynb", (),
        "units collapsing onto one template: unit diversity 0.99 unconstrained, 0.33 with positive weights "
        "(3 seeds; the same network randomised: 0.05, untrained: 0.13)"),
}

FIXES: dict[str, tuple[str, ...]] = {
    "dead_units": (
        "look for a large negative bias or a mis-scaled input before the ReLU (re-initialise that layer)",
        "lower the learning rate (notebook 04: Adam at lr 1e-3 killed ~45% of fc1 in 100 steps)",
        "use LeakyReLU/GELU, or re-initialise the dead units",
    ),
    "died_in_training": (
        "lower the learning rate (e.g. 10x)",
        "use SGD with momentum: its zero gradients are transient, Adam's belong to dead units",
        "use LeakyReLU / re-initialise dead units",
    ),
    "redundant": (
        "remove or merge one of the two layers (it adds depth, not representation)",
        "check the block for a copy/identity path (a skip connection that bypasses it, a weight that is an orthogonal map)",
        "train longer or with a stronger signal if the model is untrained",
    ),
    "vae_detached": (
        "remove the detach() between encoder and decoder (notebook 02: with it 0 of 4 units active, without 2-4 of 4)",
        "check that the reconstruction loss reaches the encoder's mu (torch.autograd.grad)",
        "KL annealing / free bits once the gradient path is intact",
    ),
    "vae_collapse": (
        "look for a detach() or stop-gradient on the latent path (notebook 02)",
        "KL annealing (warm-up) or free bits per unit",
        "a weaker decoder, or fewer latent units",
    ),
    "zero_gradients": (
        "lower the learning rate",
        "use SGD with momentum",
        "use LeakyReLU / re-initialise dead units",
    ),
    "stuck": (
        "raise the learning rate or use an adaptive optimizer for the stuck layers",
        "check for saturated activations (sigmoid/tanh) or a detached branch",
    ),
    "sign_flips": (
        "lower the learning rate (oscillation across a valley)",
        "add momentum or a learning-rate warm-up",
    ),
    "diverged": (
        "lower the learning rate",
        "clip gradients; check the input normalisation and the loss",
    ),
    "sparsity": (
        "compare with the untrained architecture before acting: BatchNorm+ReLU is ~50% zeros at init",
        "lower the learning rate; use LeakyReLU",
    ),
    "entropy": (
        "check for saturated or near-constant channels (input scale, normalisation)",
        "lower the learning rate",
    ),
    "diversity": (
        "add spatial inductive bias (positional encoding, more capacity at this resolution)",
        "check whether the layer copies one template to every position",
    ),
}

TITLES = {
    "dead_units": "dead units",
    "units_died_in_training": "units dying during training",
    "redundant_layers": "redundant consecutive layers",
    "detached_latent": "detached latent (gradient path cut)",
    "posterior_collapse": "posterior collapse / inactive latent units",
    "inactive_latent_units": "inactive latent units",
    "zero_gradients": "zero gradients",
    "transient_zero_gradients": "transient zero gradients",
    "stuck_gradients": "stuck gradients",
    "gradient_sign_flips": "gradient sign flips",
    "training_diverged": "training diverged",
    "excess_sparsity": "sparsity far above initialisation",
    "low_entropy": "channel entropy far below initialisation",
    "low_spatial_diversity": "low spatial diversity",
    "collapsed_templates": "units collapsed onto one template",
}


@dataclass
class Finding:
    """One diagnosis.

    Attributes:
        code: machine name (``dead_units``, ``redundant_layers``, ...); :attr:`name` is the title.
        severity: ``critical``, ``warning`` or ``info``.
        layer: where (a layer label, a pair "a -> b", or "model").
        value: the number behind the finding; threshold: the rule's bound.
        message: one or two sentences with the numbers.
        evidence: key of :data:`EVIDENCE`.
        fixes: suggestions, best supported first.
    """

    code: str
    severity: str
    layer: str
    value: float
    threshold: float
    message: str
    evidence: str
    fixes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.evidence not in EVIDENCE:
            raise ValueError(f"unknown evidence {self.evidence!r}; known: {', '.join(EVIDENCE)}")

    @property
    def name(self) -> str:
        return TITLES.get(self.code, self.code.replace("_", " "))

    @property
    def source(self) -> Evidence:
        return EVIDENCE[self.evidence]

    def as_row(self) -> dict:
        return {"severity": self.severity, "finding": self.name, "code": self.code, "layer": self.layer,
                "value": self.value, "threshold": self.threshold, "message": self.message,
                "evidence": self.source.cite(), "fixes": list(self.fixes)}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Critical first, then warning, then info; within one severity the largest value first."""
    def key(f: Finding):
        v = f.value if isinstance(f.value, (int, float)) and not math.isnan(f.value) else 0.0
        return SEVERITIES.index(f.severity), -abs(v)
    return sorted(findings, key=key)


def fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.3g}"
    return str(v)


__all__ = ["EVIDENCE", "FIXES", "Evidence", "Finding", "SEVERITIES", "TITLES", "fmt", "sort_findings"]
