"""A small training harness: train/validation loops, device handling, progress bars, callbacks.

    trainer = Trainer(model, opt, F.cross_entropy, train_loader, valid_loader,
                      callbacks=[MetricsLogger(log_dir="runs/mlp"), CheckpointCallback("ckpt", every=2),
                                 EpochStartAnalysis(lambda tr: analyse(tr.model))])
    history = trainer.fit(epochs=5)

Metrics (loss, accuracy, macro F1) are accumulated on the device as a running loss sum and
a confusion matrix, and read to the host once per epoch: no per-step synchronisation
(the progress bar's loss is refreshed every ``progress_every`` steps only).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from ..checkpoints import save_checkpoint
from .callbacks import Progress, Scheduler
from .learner import Callback as EngineCallback, Learner
from ..scalars import ScalarLogger


def macro_f1(confusion: torch.Tensor) -> float:
    """Unweighted mean of per-class F1 from a confusion matrix (rows: true, columns: predicted).

    Classes that never occur and are never predicted are left out of the mean (sklearn's
    behaviour for labels absent from both y_true and y_pred).
    """
    c = confusion.double()
    tp = c.diagonal()
    support, predicted = c.sum(1), c.sum(0)
    present = (support + predicted) > 0
    f1 = torch.where(present, 2 * tp / (support + predicted).clamp_min(1), torch.zeros_like(tp))
    return (f1[present].mean().item()) if present.any() else float("nan")


class TrainerCallback:
    """Hooks into :class:`Trainer`. Override what you need; ``trainer`` exposes its state."""

    def on_fit_start(self, trainer: "Trainer") -> None: ...
    def on_epoch_start(self, trainer: "Trainer") -> None: ...
    def on_batch_end(self, trainer: "Trainer") -> None: ...
    def on_epoch_end(self, trainer: "Trainer") -> None: ...
    def on_fit_end(self, trainer: "Trainer") -> None: ...


class _EpochMeter:
    """Device-side sums for one pass: loss, sample count, confusion matrix."""

    def __init__(self, device):
        self.device, self.loss, self.n, self.confusion = device, torch.zeros((), device=device), 0, None

    def update(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor) -> None:
        self.loss += loss.detach() * y.shape[0]
        self.n += y.shape[0]
        if out.dim() == 2 and y.dim() == 1 and not y.is_floating_point():  # classification
            k = out.shape[1]
            if self.confusion is None:
                self.confusion = torch.zeros(k * k, dtype=torch.long, device=self.device)
            self.confusion += torch.bincount(y * k + out.detach().argmax(1), minlength=k * k)

    def result(self, prefix: str) -> dict[str, float]:
        res = {f"{prefix}loss": (self.loss / max(self.n, 1)).item()}
        if self.confusion is not None:
            k = math.isqrt(self.confusion.numel())
            cm = self.confusion.view(k, k).cpu()
            res[f"{prefix}accuracy"] = (cm.diagonal().sum() / cm.sum().clamp_min(1)).item()
            res[f"{prefix}macro_f1"] = macro_f1(cm)
        return res


class _TrainerEvents(EngineCallback):
    """Runs a :class:`Trainer`'s meters, validation and ``on_*`` callbacks at the engine's events."""

    order = 50

    def __init__(self, trainer: "Trainer"):
        self.trainer = trainer

    def before_fit(self, learner):
        self.trainer._emit("on_fit_start")

    def before_epoch(self, learner):
        self.meter = _EpochMeter(self.trainer.device)
        self.trainer._emit("on_epoch_start")

    def after_batch(self, learner):
        self.meter.update(learner.loss, learner.preds, learner.batch[1])
        self.trainer._emit("on_batch_end")

    def after_epoch(self, learner):
        t = self.trainer
        metrics = {"epoch": learner.epoch, **self.meter.result("train_")}
        if t.valid_loader is not None:
            metrics.update(t.evaluate(t.valid_loader))
        t.metrics = metrics
        t.history.append(metrics)
        t._emit("on_epoch_end")

    def after_fit(self, learner):
        self.trainer._emit("on_fit_end")


class Trainer:
    """Train ``model`` with ``opt`` on batches ``(x, y)`` from ``train_loader``, on :class:`~nblib.engine.Learner`.

    Args:
        loss_fn: ``loss_fn(model(x), y) -> scalar``.
        train_loader, valid_loader: any iterables of (x, y) batches (a DataLoader, a
            ``GpuBatchLoader``); batches are moved to ``device`` if they are not there.
        device: defaults to the model's device.
        scheduler: stepped after every optimizer step.
        callbacks: :class:`TrainerCallback` instances, called in order.
        progress: show a tqdm bar over epochs.
        progress_every: steps between progress-bar loss refreshes (each one syncs the host).

    State seen by callbacks: ``epoch`` (0-based, the one running), ``step`` (optimizer steps
    so far), ``loss`` (last batch loss, a device tensor), ``metrics`` (last finished epoch),
    ``history`` (one dict per finished epoch), ``stop`` (set True to end training),
    ``learner`` (the engine running the loop).
    """

    def __init__(
        self,
        model: nn.Module,
        opt: torch.optim.Optimizer,
        loss_fn: Callable,
        train_loader: Iterable,
        valid_loader: Iterable | None = None,
        device=None,
        scheduler=None,
        callbacks: Iterable[TrainerCallback] = (),
        progress: bool = True,
        progress_every: int = 50,
    ):
        self.model, self.opt, self.loss_fn = model, opt, loss_fn
        self.train_loader, self.valid_loader = train_loader, valid_loader
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.scheduler, self.callbacks = scheduler, list(callbacks)
        self.progress, self.progress_every = progress, progress_every
        self.metrics: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        engine = [_TrainerEvents(self), Progress("epochs", every=progress_every, enabled=progress)]
        if scheduler is not None:
            engine.append(Scheduler(scheduler))
        self.learner = Learner(model, opt, train_loader, forward=self._forward, callbacks=engine)

    # the engine's state, under the names Trainer callbacks have always read
    epoch = property(lambda self: self.learner.epoch, lambda self, v: setattr(self.learner, "epoch", v))
    step = property(lambda self: self.learner.step)
    loss = property(lambda self: self.learner.loss)
    stop = property(lambda self: self.learner.stop, lambda self, v: setattr(self.learner, "stop", v))

    def _emit(self, event: str) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(self)

    def _to_device(self, batch):
        x, y = batch
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def _forward(self, learner: Learner, batch):
        learner.batch = x, y = self._to_device(batch)
        out = self.model(x)
        return out, self.loss_fn(out, y)

    def evaluate(self, loader: Iterable, prefix: str = "valid_") -> dict[str, float]:
        """Loss (and accuracy, macro F1 for classification) over ``loader``, in eval mode."""
        was_training = self.model.training
        self.model.eval()
        meter = _EpochMeter(self.device)
        with torch.no_grad():
            for batch in loader:
                x, y = self._to_device(batch)
                out = self.model(x)
                meter.update(self.loss_fn(out, y), out, y)
        self.model.train(was_training)
        return meter.result(prefix)

    def fit(self, epochs: int) -> list[dict[str, float]]:
        """Run ``epochs`` epochs (train, then validate); returns the per-epoch history."""
        self.learner.fit(epochs)
        return self.history


class MetricsLogger(TrainerCallback):
    """Per-epoch metrics to the console (one line) and to TensorBoard (``log_dir``), through the
    package's one :class:`~nblib.engine.ScalarLogger` (tags ``<metric>/<split>``, e.g. ``loss/train``)."""

    def __init__(self, log_dir: str | Path | None = None, console: bool = True):
        self.log_dir, self.console, self.writer = log_dir, console, None

    def on_fit_start(self, trainer):
        if self.log_dir is not None and self.writer is None:
            self.writer = ScalarLogger(self.log_dir, keep=False)

    def on_epoch_end(self, trainer):
        m = trainer.metrics
        if self.console:
            print(" | ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items()))
        if self.writer is not None:
            for k, v in m.items():
                if k != "epoch":
                    split, _, name = k.partition("_")
                    self.writer.scalar(f"{name}/{split}", v, m["epoch"])
            self.writer.flush()

    def on_fit_end(self, trainer):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class CheckpointCallback(TrainerCallback):
    """Save the model every ``every`` epochs (and at the end) as ``{folder}/epoch{E:03d}.pt``."""

    def __init__(self, folder: str | Path, every: int = 1):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.folder, self.every = Path(folder), every
        self.saved: list[Path] = []

    def _save(self, trainer):
        path = self.folder / f"epoch{trainer.epoch:03d}.pt"
        if path not in self.saved:
            save_checkpoint(path, trainer.model, epoch=trainer.epoch, step=trainer.step, metrics=trainer.metrics)
            self.saved.append(path)

    def on_epoch_end(self, trainer):
        if (trainer.epoch + 1) % self.every == 0:
            self._save(trainer)

    def on_fit_end(self, trainer):
        if trainer.history:
            trainer.epoch -= 1  # the last finished epoch
            self._save(trainer)
            trainer.epoch += 1


class EpochStartAnalysis(TrainerCallback):
    """Run ``fn(trainer)`` at the start of every epoch (and once after the last, if ``at_end``).

    Results are kept in ``results`` as ``(epoch, value)``; the model is put in eval mode
    under ``torch.no_grad()`` for the call and restored afterwards.
    """

    def __init__(self, fn: Callable[["Trainer"], object], at_end: bool = True):
        self.fn, self.at_end, self.results = fn, at_end, []

    def _run(self, trainer, epoch):
        was_training = trainer.model.training
        trainer.model.eval()
        with torch.no_grad():
            self.results.append((epoch, self.fn(trainer)))
        trainer.model.train(was_training)

    def on_epoch_start(self, trainer):
        self._run(trainer, trainer.epoch)

    def on_fit_end(self, trainer):
        if self.at_end:
            self._run(trainer, trainer.epoch)
