"""A short training run of a copy of the model under the GradientTracker (notebook 04's instrument).

The copy trains for ``steps`` minibatches (default Adam, lr 1e-3) on the given inputs and labels;
the original is never touched. Then the dead-unit census runs again on the trained copy, and the
doctor compares: units alive before and dead after died during training. The tracker's per-step
frame gives zero gradients per layer, the low state's retention (stuck gradients) and sign flips.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..cli import InputError
from ..engine import Callback, CancelFit, Learner, Progress
from ..dynamics import GradientTracker
from .findings import FIXES, Finding

OPTIMIZERS = ("adam", "sgd", "adamw")
DIED_CRITICAL = 0.25   # notebook 04: Adam at lr 1e-3 killed ~45% of fc1 in 100 steps
DIED_WARNING = 0.05
ZERO_GRAD_WARNING = 0.25
STUCK_RETAINED = 0.95
SIGN_FLIPS_INFO = 0.4


@dataclass
class TrainingResult:
    model: nn.Module
    frame: object            # pandas DataFrame per step (GradientTracker.frame())
    layer_zero: object       # zero-gradient fraction per layer and step
    losses: list[float]
    optimizer: str
    lr: float
    steps: int


def make_optimizer(name: str, params, lr: float):
    name = name.lower()
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise InputError(f"--optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


class _StopWhenNotFinite(Callback):
    """Keep every step's loss on the host (the doctor reports the curve) and stop at the first
    non-finite one, before its backward pass."""

    def __init__(self, losses: list[float]):
        self.losses = losses

    def after_loss(self, learner):
        self.losses.append(float(learner.loss.detach()))
        if not math.isfinite(self.losses[-1]):
            raise CancelFit


def train_copy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, optimizer: str = "adam",
               lr: float = 1e-3, batch_size: int = 64, loss_fn=None, seed: int = 0, device=None,
               progress: bool = True) -> TrainingResult:
    """Train a deep copy of ``model`` for ``steps`` minibatches with the tracker attached.

    Args:
        loss_fn: callable(model, x, y) -> scalar loss; default cross-entropy on ``model(x)``.
    """
    if y is None:
        raise InputError("--train-steps needs labels: pass --labels FILE (or a built-in dataset such as cifar10)")
    if y.shape[0] != x.shape[0]:
        raise InputError(f"{y.shape[0]} labels for {x.shape[0]} inputs; give one label per input")
    net = copy.deepcopy(model).train()
    device = device or next((p.device for p in net.parameters()), torch.device("cpu"))
    opt = make_optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], lr)
    if loss_fn is None:
        def loss_fn(m, xb, yb):
            return nn.functional.cross_entropy(m(xb), yb)
    gen = torch.Generator().manual_seed(seed)
    losses: list[float] = []

    def minibatches(learner: Learner):
        for _ in range(steps):
            idx = torch.randint(0, x.shape[0], (min(batch_size, x.shape[0]),), generator=gen)
            yield x[idx].to(device), y[idx].to(device)

    def forward(learner: Learner, batch):
        try:
            return None, loss_fn(net, *batch)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            raise InputError(f"the training loss failed ({exc.__class__.__name__}: {' '.join(str(exc).split())[:160]});"
                             " check --labels (class indices for cross-entropy)") from None

    tracker = GradientTracker(net, opt, zero_thresh=1e-7, low_thresh=1e-5, pull_every=max(1, min(50, steps)),
                              compile=False)
    with tracker:
        Learner(net, opt, minibatches, forward=forward,
                callbacks=[_StopWhenNotFinite(losses),
                           Progress(f"training ({optimizer}, lr {lr:g})", unit="steps", total=steps, enabled=progress)]
                ).fit(1)
    frame = tracker.frame()
    layer = tracker.layer_frame()
    sizes = dict(zip(tracker.layer_names, tracker.layer_sizes))
    layer_zero = layer / [sizes[c] for c in layer.columns]
    return TrainingResult(net.eval(), frame, layer_zero, losses, optimizer, lr, len(losses))


def _tail(series, frac: float = 0.5):
    s = series.dropna()
    return s.iloc[int(len(s) * (1 - frac)):] if len(s) else s


def training_findings(run: TrainingResult, before: dict, after: dict, samples: int) -> list[Finding]:
    """Units dying (census before vs after), zero/stuck gradients, sign flips, divergence."""
    out: list[Finding] = []
    what = f"{run.steps} steps of {run.optimizer} at lr {run.lr:g}"
    if any(not math.isfinite(v) for v in run.losses):
        out.append(Finding("training_diverged", "critical", "model", float("nan"), float("nan"),
                           f"the loss became NaN/Inf after {len(run.losses)} of the requested steps ({what}).",
                           "adam_dead", FIXES["diverged"]))
    died_layers, dead_after = {}, {}
    for label, b in before.items():
        a = after.get(label)
        if a is None or a["channels"] != b["channels"]:
            continue
        died = (~b["dead"] & a["dead"]).sum().item()
        frac = died / max(b["channels"], 1)
        if a["after"]:
            died_layers[a["after"]] = max(died_layers.get(a["after"], 0.0), frac)
            dead_after[a["after"]] = max(dead_after.get(a["after"], 0.0), float(a["dead"].float().mean()))
        if frac >= DIED_WARNING:
            crit = frac >= DIED_CRITICAL
            out.append(Finding(
                "units_died_in_training", "critical" if crit else "warning", a["where"], round(frac, 4),
                DIED_CRITICAL if crit else DIED_WARNING,
                f"{died} of {b['channels']} units ({frac:.0%}) alive before {what} are dead after it "
                f"(census over {samples} inputs: {int(b['dead'].sum())} dead before, {int(a['dead'].sum())} after).",
                "adam_dead", FIXES["died_in_training"]))
    zero = run.layer_zero
    for layer in zero.columns:
        tail = _tail(zero[layer])
        if not len(tail):
            continue
        z = float(tail.mean())
        if z < ZERO_GRAD_WARNING:
            continue
        dead = dead_after.get(layer, 0.0)
        if dead >= DIED_WARNING:
            out.append(Finding("zero_gradients", "warning", layer, round(z, 4), ZERO_GRAD_WARNING,
                               f"{z:.0%} of {layer}'s gradient components are zero over the last half of the run and "
                               f"{dead:.0%} of its units are dead after it ({died_layers.get(layer, 0.0):.0%} died during "
                               "the run): the zero gradients are dead units' weights.",
                               "adam_dead", FIXES["zero_gradients"]))
        elif z >= 0.9:
            out.append(Finding("zero_gradients", "warning", layer, round(z, 4), ZERO_GRAD_WARNING,
                               f"{z:.0%} of {layer}'s gradient components are zero over the last half of the run though "
                               "its own units are alive: no gradient reaches it (dead or detached layers downstream).",
                               "adam_dead", FIXES["zero_gradients"]))
        else:
            out.append(Finding("transient_zero_gradients", "info", layer, round(z, 4), ZERO_GRAD_WARNING,
                               f"{z:.0%} of {layer}'s gradient components are zero over the last half of the run "
                               "without dead units of its own: transient (units inactive on the batch) or weights "
                               "reading dead units of the layer before.",
                               "sgd_transient", ()))
    f = run.frame
    retained = _tail(f["retained_fraction"])
    low = _tail(f["low_grads"])
    n = float(f["zero_grads"].iloc[0] / max(f["zero_grad_fraction"].iloc[0], 1e-12)) if len(f) and f["zero_grad_fraction"].iloc[0] > 0 else math.nan
    if len(retained) and float(retained.mean()) >= STUCK_RETAINED and len(low) and (math.isnan(n) or low.mean() / n >= 0.1):
        share = "" if math.isnan(n) else f" ({low.mean() / n:.0%} of all components)"
        out.append(Finding("stuck_gradients", "warning", "model", round(float(retained.mean()), 4), STUCK_RETAINED,
                           f"{retained.mean():.0%} of the components with |g| < 1e-5 stay below it from one step to the "
                           f"next{share}: their gradients are stuck, not transient.", "sgd_transient", FIXES["stuck"]))
    flips = _tail(f["sign_flip_fraction"])
    if len(flips) and float(flips.mean()) >= SIGN_FLIPS_INFO:
        out.append(Finding("gradient_sign_flips", "info", "model", round(float(flips.mean()), 4), SIGN_FLIPS_INFO,
                           f"{flips.mean():.0%} of gradient components flip sign each step: the step size "
                           "oscillates across valleys.", "adam_dead", FIXES["sign_flips"]))
    return out


__all__ = ["OPTIMIZERS", "TrainingResult", "make_optimizer", "train_copy", "training_findings"]
