"""The callbacks the recipes share: meters, schedules, autocast, annealing, clipping, timing, progress.

Each does one thing at one event of :class:`~nblib.engine.Learner`. Meters keep their sums on
the device and read them once per epoch (no per-step host synchronisation); only
:class:`Progress` reads the loss during an epoch, every ``every`` steps.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from .learner import Callback, Learner


def batch_size(learner: Learner) -> int:
    """Examples in the current batch: the length of its last element (the labels of ``(x, y)``)."""
    batch = learner.batch
    last = batch[-1] if isinstance(batch, (tuple, list)) else batch
    return int(last.shape[0])


class LossMeter(Callback):
    """Mean training loss per epoch, summed on the device and read once, into ``learner.epoch_loss``.

    Args:
        weight: ``weight(learner)``: how much this batch's loss counts (default: its size, for a
            mean-reduced loss; ``lambda l: 1`` for a sum-reduced one or a mean over steps).
        count: ``count(learner)``: what it adds to the denominator (default: its size).
    """

    order = 10

    def __init__(self, weight: Callable[[Learner], float] = batch_size, count: Callable[[Learner], float] = batch_size):
        self.weight, self.count = weight, count

    def before_fit(self, learner):
        if not hasattr(learner, "epoch_loss"):
            learner.epoch_loss = []

    def before_epoch(self, learner):
        self.total, self.n = None, 0

    def after_batch(self, learner):
        if learner.training:
            term = learner.loss.detach() * self.weight(learner)
            self.total = term if self.total is None else self.total + term
            self.n += self.count(learner)

    def after_epoch(self, learner):
        if learner.training:
            mean = 0.0 if self.total is None else (self.total / max(self.n, 1)).item()  # the one read per epoch
            learner.epoch_loss.append(mean)


class StepLosses(Callback):
    """Every step's loss in a preallocated device tensor ``learner.step_losses`` (``steps`` long)."""

    order = 10

    def __init__(self, steps: int):
        self.steps = steps

    def before_fit(self, learner):
        dev = next((p.device for p in learner.model.parameters()), torch.device("cpu"))
        learner.step_losses = torch.zeros(self.steps, device=dev)

    def after_step(self, learner):
        learner.step_losses[learner.step] = learner.loss.detach()


class Scheduler(Callback):
    """Step a learning-rate scheduler after every optimiser step."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def after_step(self, learner):
        self.scheduler.step()


class GradClip(Callback):
    """Clip the gradient norm after backward; the pre-clip norms stay on the device in ``norms``.

    Args:
        max_norm: the clip (``inf`` only measures: the recipes that record gradient norms use that).
        record: keep the norm of every step (a (steps,) device tensor, grown in blocks).
    """

    def __init__(self, max_norm: float = float("inf"), record: bool = False):
        self.max_norm, self.record, self.norms = max_norm, record, []

    def after_backward(self, learner):
        norm = torch.nn.utils.clip_grad_norm_(learner.model.parameters(), self.max_norm)
        if self.record:
            self.norms.append(norm.detach())


def autocast_context(dev: torch.device, bf16: bool | None):
    """bf16 autocast where requested (default: on CUDA devices that support bf16), else a no-op."""
    if bf16 is None:
        bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    if bf16:
        return torch.autocast(dev.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Autocast(Callback):
    """:func:`autocast_context` around the forward pass (default: bf16 on CUDA devices that support it)."""

    def __init__(self, device: torch.device, bf16: bool | None = None):
        self.device, self.bf16 = torch.device(device), bf16

    def _context(self):
        return autocast_context(self.device, self.bf16)

    def before_fit(self, learner):
        learner.contexts.append(self._context)

    def cleanup(self, learner):
        if self._context in learner.contexts:
            learner.contexts.remove(self._context)


class GumbelAnneal(Callback):
    """Anneal every GumbelConv2d's temperature and logit scale along the run, before each step."""

    def __init__(self, total_steps: int, tau: tuple[float, float], logit_scale: tuple[float, float]):
        self.total_steps, self.tau, self.logit_scale = total_steps, tau, logit_scale

    def before_fit(self, learner):
        from ..layers import GumbelConv2d

        self.active = any(isinstance(m, GumbelConv2d) for m in learner.model.modules())

    def before_batch(self, learner):
        if self.active and learner.training:
            from ..layers import anneal_gumbel

            anneal_gumbel(learner.model, learner.step / max(1, self.total_steps - 1), self.tau, self.logit_scale)


class Timer(Callback):
    """Wall time of the training epochs (synchronised on CUDA), in ``learner.train_seconds``.

    Runs first at every event (``order`` -100), so the clock stops before any meter reads a value
    to the host (the reads are not training); per-epoch set-up of other callbacks is counted.
    """

    order = -100

    def before_fit(self, learner):
        learner.train_seconds = getattr(learner, "train_seconds", 0.0)

    def _sync(self, learner):
        dev = next((p.device for p in learner.model.parameters()), torch.device("cpu"))
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def before_epoch(self, learner):
        if learner.training:
            self._sync(learner)
            self.t0 = time.perf_counter()

    def after_epoch(self, learner):
        if learner.training:
            self._sync(learner)
            learner.train_seconds += time.perf_counter() - self.t0


class EpochEval(Callback):
    """Call ``fn(learner)`` after every training epoch, in eval mode without gradients; results in ``values``."""

    order = 20

    def __init__(self, fn: Callable[[Learner], object]):
        self.fn, self.values = fn, []

    def after_epoch(self, learner):
        if learner.training:
            was = learner.model.training
            learner.model.eval()
            with torch.no_grad():
                self.values.append(self.fn(learner))
            learner.model.train(was)


class Progress(Callback):
    """A tqdm bar over epochs or over steps.

    Args:
        unit: "epochs" (postfix: the epoch's mean loss, when a :class:`LossMeter` runs) or "steps".
        every: also show the current loss every ``every`` steps (a host sync each time; None: never).
        total: the bar's length (default: the run's epochs, or ``max_steps``).
    """

    order = 30

    def __init__(self, desc: str = "training", unit: str = "epochs", total: int | None = None,
                 every: int | None = None, enabled: bool = True, leave: bool = False):
        if unit not in ("epochs", "steps"):
            raise ValueError(f"unit must be 'epochs' or 'steps', got {unit!r}")
        self.desc, self.unit, self.total, self.every, self.enabled, self.leave = desc, unit, total, every, enabled, leave
        self.bar = None

    def before_fit(self, learner):
        total = self.total or (learner.n_epochs - learner.epoch if self.unit == "epochs" else learner.max_steps)
        self.bar = tqdm(total=total, desc=self.desc, disable=not self.enabled, leave=self.leave)

    def after_batch(self, learner):
        if not learner.training:
            return
        if self.unit == "steps":
            self.bar.update(1)
        if self.enabled and self.every and (learner.step - 1) % self.every == 0:
            self.bar.set_postfix(loss=f"{learner.loss.item():.3f}")

    def after_epoch(self, learner):
        if self.unit == "epochs" and learner.training:
            self.bar.update(1)
            if self.enabled and getattr(learner, "epoch_loss", None):
                self.bar.set_postfix(loss=f"{learner.epoch_loss[-1]:.3f}")

    def cleanup(self, learner):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
