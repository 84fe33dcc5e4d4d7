"""The ARC slot autoencoder's training recipe (notebook 01) on the engine: size-bucketed batches cropped
to their extent, Adam with an optional warm-up, schedule and gradient clipping."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..models.arc_slots import ARCSlotAutoencoder, bucketed_batches, reconstruction_loss
from .callbacks import GradClip, Progress, StepLosses
from .learner import Callback, Learner
from .schedules import lr_at_step


class _SetRates(Callback):
    """Set every group's learning rate to ``rates[step]`` just before the optimiser step (after clipping)."""

    order = 5

    def __init__(self, rates: list[float]):
        self.rates = rates

    def after_backward(self, learner):
        for opt in learner.opt:
            for group in opt.param_groups:
                group["lr"] = self.rates[learner.step]


class _EveryNSteps(Callback):
    """``fn(step, model)`` after every ``every`` steps, in eval mode without gradients."""

    order = 20

    def __init__(self, fn: Callable[[int, nn.Module], None], every: int):
        self.fn, self.every = fn, every

    def after_batch(self, learner):
        if learner.step % self.every == 0:
            learner.model.eval()
            with torch.no_grad():
                self.fn(learner.step, learner.model)
            learner.model.train()


def train_slot_autoencoder(model: ARCSlotAutoencoder, onehot: torch.Tensor, colours: torch.Tensor, mask: torch.Tensor,
                           steps: int, lr: float = 4e-4, batch_size: int = 16, seed: int = 0,
                           progress: bool = True, desc: str = "training", progress_every: int = 25,
                           callback: Callable[[int, nn.Module], None] | None = None,
                           callback_every: int = 0, warmup: int = 0, schedule: str = "constant",
                           final_lr_fraction: float = 0.0, clip_norm: float | None = None) -> torch.Tensor:
    """Adam on the per-cell reconstruction loss, size-bucketed batches cropped to their extent.

    Args:
        onehot (N, 10, 30, 30), colours (N, 30, 30), mask (N, 30, 30): the training grids,
            on the model's device, top-left aligned.
        steps: optimizer steps; lr: Adam's peak learning rate; seed: batch order.
        warmup, schedule, final_lr_fraction: the learning rate at each step,
            :func:`~nblib.engine.schedules.lr_at_step` (defaults: constant ``lr``).
        clip_norm: clip the gradients' global L2 norm to this before each step (None: no clipping).
        callback: ``callback(step, model)`` after every ``callback_every`` steps, with the
            model in eval mode under ``torch.no_grad()`` (e.g. to follow metrics over training).
    Returns:
        (steps,) losses, kept on the device during training (read by the caller once).
        The progress bar reads the loss every ``progress_every`` steps.
    """
    dev = onehot.device
    gen = torch.Generator().manual_seed(seed)
    heights = mask.any(2).sum(1).cpu()  # (N,) rows holding a valid cell
    widths = mask.any(1).sum(1).cpu()  # (N,)

    def batches(learner: Learner):
        while True:  # epochs of bucketed batches until max_steps
            order = bucketed_batches(heights * widths, batch_size, generator=gen)  # (n_batches, B), CPU
            extents = torch.stack([heights[order].amax(1), widths[order].amax(1)], 1).tolist()  # crop sizes
            for (h, w), idx in zip(extents, order.to(dev)):
                yield onehot[idx, :, :h, :w], colours[idx, :h, :w], mask[idx, :h, :w]  # cropped to the batch

    def forward(learner: Learner, batch):
        x, c, m = batch
        return None, reconstruction_loss(model(x, m).log_probs, c, m)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rates = [lr * lr_at_step(t, steps, warmup, schedule, final_lr_fraction) for t in range(steps)]
    callbacks = [_SetRates(rates), StepLosses(steps),
                 Progress(desc, unit="steps", total=steps, every=progress_every, enabled=progress)]
    if clip_norm is not None:
        callbacks.append(GradClip(clip_norm))
    if callback is not None and callback_every > 0:
        callbacks.append(_EveryNSteps(callback, callback_every))
    learner = Learner(model, opt, batches, forward=forward, callbacks=callbacks, max_steps=steps).fit(1)
    model.eval()
    return learner.step_losses
