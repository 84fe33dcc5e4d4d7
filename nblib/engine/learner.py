"""One training loop with callbacks (the shape of fast.ai miniai's ``Learner``).

Every recipe in nblib (``Trainer``, ``fit_fast``, ``train_airbench94``, ``train_csvae``,
``fit_hashing``, the doctor's ``train_copy``...) is this loop plus callbacks: the loop does
forward, loss, backward and the optimiser step and nothing else; schedules, autocast, Gumbel
annealing, weight averaging, meters, progress bars, checkpoints and logging are callbacks.

    learner = Learner(model, opt, batches, F.cross_entropy,
                      callbacks=[Scheduler(sched), LossMeter(), Progress("training")])
    learner.fit(epochs=3)
    learner.epoch_loss                       # one float per epoch, read once per epoch

Events, in order: ``before_fit``, then per epoch ``before_epoch``, per batch ``before_batch``,
``after_loss``, ``after_backward``, ``after_step``, ``after_batch``, then ``after_epoch``, and
``after_fit``; ``cleanup`` always runs last (in ``finally``), so a logger closes its file even when
training fails. A callback raises :class:`CancelBatch`, :class:`CancelEpoch` or
:class:`CancelFit` to skip the rest of a batch, an epoch or the run. Callbacks run in ascending
``order`` (ties: the order given).

State that callbacks read and write: ``model``, ``opt`` (a list of optimisers), ``epoch`` (the
epoch running; after ``fit``, the number of epochs done), ``step`` (optimiser steps so far),
``iter`` (batch index in the epoch), ``batch``, ``preds``, ``loss`` (a device tensor),
``n_epochs``, ``max_steps``, ``training``, ``stop`` (set True by a callback: the epoch ends after
this batch and the run after this epoch).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

EVENTS = ("before_fit", "before_epoch", "before_batch", "after_loss", "after_backward", "after_step",
          "after_batch", "after_epoch", "after_fit", "cleanup")


class CancelBatch(Exception):
    """Raised by a callback: skip the rest of this batch (no backward/step if raised before them)."""


class CancelEpoch(Exception):
    """Raised by a callback: end this epoch now (``after_epoch`` still runs)."""


class CancelFit(Exception):
    """Raised by a callback: end training now (``after_fit`` still runs)."""


class Callback:
    """Override the events you need; each receives the :class:`Learner`."""

    order = 0

    def before_fit(self, learner: "Learner") -> None: ...
    def before_epoch(self, learner: "Learner") -> None: ...
    def before_batch(self, learner: "Learner") -> None: ...
    def after_loss(self, learner: "Learner") -> None: ...
    def after_backward(self, learner: "Learner") -> None: ...
    def after_step(self, learner: "Learner") -> None: ...
    def after_batch(self, learner: "Learner") -> None: ...
    def after_epoch(self, learner: "Learner") -> None: ...
    def after_fit(self, learner: "Learner") -> None: ...
    def cleanup(self, learner: "Learner") -> None: ...


def default_forward(learner: "Learner", batch) -> tuple[object, torch.Tensor]:
    """``preds = model(x)``, ``loss = loss_func(preds, y)`` for a batch ``(x, y)``."""
    x, y = batch
    preds = learner.model(x)
    return preds, learner.loss_func(preds, y)


class Learner:
    """Train ``model`` with one or more optimisers on the batches of ``batches``.

    Args:
        model: the network (its train/eval mode is set by the loop: train during epochs).
        opt: an optimiser, a sequence of them (stepped in order), or a callable returning that
            sequence at every step (for optimisers replaced during training, e.g. a growing head).
        batches: an iterable of batches, iterated once per epoch (a list, a DataLoader, a
            ``GpuBatchLoader``), or a callable ``batches(learner) -> iterable`` called at the start
            of each epoch, after ``before_epoch`` (for per-epoch shuffles and augmentation).
        loss_func: ``loss_func(preds, y) -> scalar`` for the default forward.
        forward: ``forward(learner, batch) -> (preds, loss)``; replaces the default
            ``model(x)`` / ``loss_func(preds, y)`` (multi-part losses, masks, extra inputs).
        callbacks: :class:`Callback` instances.
        max_steps: stop after this many optimiser steps in total (fractional epochs).
    """

    def __init__(self, model: nn.Module, opt, batches, loss_func: Callable | None = None,
                 forward: Callable | None = None, callbacks: Iterable[Callback] = (), max_steps: int | None = None):
        if loss_func is None and forward is None:
            raise ValueError("give loss_func (for batches (x, y)) or forward(learner, batch) -> (preds, loss)")
        self.model, self._opt, self.batches = model, opt, batches
        self.loss_func, self.forward = loss_func, forward or default_forward
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))  # stable: ties keep their order
        self.max_steps = max_steps
        self.epoch, self.step, self.iter, self.n_epochs = 0, 0, 0, 0
        self.batch = self.preds = self.loss = None
        self.training, self.stop = False, False
        self.contexts: list[Callable[[], contextlib.AbstractContextManager]] = []  # around forward (e.g. autocast)

    # ------------------------------------------------------------------ plumbing
    @property
    def opt(self) -> Sequence[torch.optim.Optimizer]:
        """The optimisers of this step, as a sequence."""
        opt = self._opt() if callable(self._opt) and not isinstance(self._opt, torch.optim.Optimizer) else self._opt
        if opt is None:
            return ()
        return (opt,) if isinstance(opt, torch.optim.Optimizer) else tuple(opt)

    def callback(self, event: str) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(self)

    def add_callbacks(self, *callbacks: Callback) -> "Learner":
        self.callbacks = sorted([*self.callbacks, *callbacks], key=lambda cb: getattr(cb, "order", 0))
        return self

    def _epoch_batches(self) -> Iterable:
        return self.batches(self) if callable(self.batches) and not hasattr(self.batches, "__iter__") else self.batches

    # ------------------------------------------------------------------ the loop
    def one_batch(self) -> None:
        self.callback("before_batch")
        with contextlib.ExitStack() as stack:
            for make in self.contexts:
                stack.enter_context(make())
            self.preds, self.loss = self.forward(self, self.batch)
        self.callback("after_loss")
        if not self.training:
            return
        opts = self.opt
        for o in opts:
            o.zero_grad(set_to_none=True)
        if self.loss.requires_grad:  # a step with nothing to learn (e.g. a frozen head) still counts
            self.loss.backward()
            self.callback("after_backward")
            for o in opts:
                o.step()
        self.callback("after_step")
        self.step += 1

    def one_epoch(self, training: bool = True) -> None:
        self.training = training
        self.model.train(training)
        self.callback("before_epoch")
        try:
            for self.iter, self.batch in enumerate(self._epoch_batches()):
                if training and self.max_steps is not None and self.step >= self.max_steps:
                    break
                try:
                    self.one_batch()
                    self.callback("after_batch")
                except CancelBatch:
                    pass
                if self.stop:
                    break
        except CancelEpoch:
            pass
        self.callback("after_epoch")

    def fit(self, epochs: int) -> "Learner":
        """Train ``epochs`` more epochs (or until ``max_steps``); returns the learner."""
        self.n_epochs, self.stop = self.epoch + epochs, False
        try:
            try:
                self.callback("before_fit")
                while self.epoch < self.n_epochs:
                    if self.max_steps is not None and self.step >= self.max_steps:
                        break
                    self.one_epoch(True)
                    self.epoch += 1
                    if self.stop:
                        break
            except CancelFit:
                pass
            self.callback("after_fit")
        finally:
            self.training = False
            self.callback("cleanup")
        return self
