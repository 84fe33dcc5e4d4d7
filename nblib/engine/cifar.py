"""An airbench-style training loop for small CIFAR-10 classifiers (notebook 05's models).

What makes it fast (after Keller Jordan's cifar10-airbench): the whole dataset lives on the
device (:class:`~nblib.data.GpuBatchLoader`: one normalised tensor, batched flip and
translate per epoch), channels-last memory format and bf16 autocast on GPUs that support
them, no host-device synchronisation inside an epoch (the loss is summed in a device tensor
and read once per epoch), a per-step learning-rate schedule computed on the host.

    result = fit_fast(make_model("directional"), train, test, epochs=10)
    result.test_accuracy, result.images_per_second
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data import CIFAR10_MEAN, CIFAR10_STD, GpuBatchLoader, LabelledImages
from ..layers import GumbelConv2d
from ..runtime import device as resolve_device, set_seed
from .callbacks import Autocast, EpochEval, GumbelAnneal, LossMeter, Progress, Scheduler, Timer, autocast_context
from ..deprecation import moved
from .learner import Learner
from .schedules import triangle_schedule


@dataclass
class FitResult:
    """What :func:`fit_fast` measured.

    Attributes:
        test_accuracy: final accuracy on the test set (nan without one).
        train_loss: mean training loss per epoch.
        test_accuracy_history: test accuracy after each epoch (only with ``eval_every_epoch``).
        train_seconds: wall time of the training steps (synchronised; evaluation excluded).
        images_per_second: training images processed per second.
        steps: optimiser steps taken.
    """

    test_accuracy: float
    train_loss: list[float]
    test_accuracy_history: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    images_per_second: float = 0.0
    steps: int = 0


def decay_groups(model: nn.Module, weight_decay: float, lr: float | None = None,
                 scalar_lr_mult: float = 1.0) -> list[dict]:
    """Optimiser groups: weight decay on unconstrained conv/linear weights only.

    Not decayed: biases, BatchNorm, scalar temperatures/scales, GumbelConv logits (decay would
    pull them back to a uniform choice) and raw parameters of positive reparameterisations
    (decaying ``raw`` pulls ``softplus(raw)`` towards log 2, not towards 0). Scalar (0-d)
    parameters, the log temperature of SoftMaxPool and the log logit scale of Scale, get
    ``lr * scalar_lr_mult`` (with ``lr`` given): a log-parameterised scale moving by at most
    about ``lr`` per Adam step would need thousands of steps to reach a confident softmax.
    """
    decay = set()
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            decay.add(id(m.weight))
        elif isinstance(m, GumbelConv2d) and not m.positive:
            decay.add(id(m.weight_param))
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        dict(params=[p for p in params if id(p) in decay], weight_decay=weight_decay),
        dict(params=[p for p in params if id(p) not in decay and p.dim() > 0], weight_decay=0.0),
        dict(params=[p for p in params if p.dim() == 0], weight_decay=0.0),
    ]
    if lr is not None:
        for g, mult in zip(groups, (1.0, 1.0, scalar_lr_mult)):
            g["lr"] = lr * mult
    return [g for g in groups if g["params"]]


@torch.no_grad()
def accuracy(model: nn.Module, data: LabelledImages | GpuBatchLoader, batch_size: int = 1000,
             device="auto", bf16: bool | None = None) -> float:
    """Accuracy of ``model`` (eval mode) on ``data``; one host read at the end.

    Args:
        device: where to evaluate; "auto" uses the device of the model's parameters.
        data: LabelledImages (normalised with the CIFAR-10 statistics here) or a test
            ``GpuBatchLoader`` (used as is).
    """
    dev = next(model.parameters()).device if device == "auto" else resolve_device(device)
    loader = data if isinstance(data, GpuBatchLoader) else GpuBatchLoader(
        data, batch_size, train=False, mean=CIFAR10_MEAN, std=CIFAR10_STD, device=dev)
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=dev)
    total = 0
    with autocast_context(dev, bf16):
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum()
            total += y.shape[0]
    model.train(was_training)
    return correct.item() / max(total, 1)


def fit_fast(
    model: nn.Module,
    train: LabelledImages,
    test: LabelledImages | None = None,
    epochs: float = 10,
    batch_size: int = 256,
    lr: float = 3e-3,
    weight_decay: float = 5e-4,
    label_smoothing: float = 0.0,
    warmup: float = 0.2,
    flip: bool = True,
    translate: int = 2,
    device="auto",
    channels_last: bool | None = None,
    bf16: bool | None = None,
    scalar_lr_mult: float = 10.0,
    gumbel_tau: tuple[float, float] = (1.0, 0.1),
    gumbel_logit_scale: tuple[float, float] = (10.0, 1000.0),
    seed: int = 0,
    eval_every_epoch: bool = False,
    progress: bool = True,
) -> FitResult:
    """Train a classifier with AdamW and a triangular learning-rate schedule, airbench-style.

    Args:
        model: maps (N, 3, H, W) normalised images to (N, classes) logits; moved to ``device``.
        train, test: uint8 or float images in [0, 1] with labels (e.g. ``load_cifar10``).
        epochs: passes over ``train`` (fractions allowed: training stops after
            ``ceil(epochs * steps_per_epoch)`` steps).
        batch_size, lr, weight_decay, label_smoothing, warmup: optimisation (``warmup``: the
            fraction of steps of linear warm-up).
        scalar_lr_mult: learning-rate factor of the scalar parameters (see :func:`decay_groups`).
        flip, translate: training augmentation (random left-right flip, shift up to
            ``translate`` px with reflection).
        channels_last, bf16: default on for CUDA, off on CPU.
        gumbel_tau, gumbel_logit_scale: (start, end) of the annealing of every GumbelConv2d
            (:func:`~nblib.layers.anneal_gumbel`), applied each step; ignored without one.
            The default logit scale 10 -> 1000 beat 1 -> 10 and 1 -> 100 on plane vs car
            (2 epochs: 0.88 vs 0.76 and 0.81): with 120 input channels, Gumbel noise on
            near-uniform logits picks a random channel per step and the layer learns slowly.
        seed: seed of the loader (shuffling and augmentation); seed the model yourself.
        eval_every_epoch: also record test accuracy after each epoch.
    Returns:
        :class:`FitResult`.
    """
    dev = resolve_device(device)
    if channels_last is None:
        channels_last = dev.type == "cuda"
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    loader = GpuBatchLoader(train, batch_size, train=True, flip=flip, translate=translate,
                            mean=CIFAR10_MEAN, std=CIFAR10_STD, device=dev, channels_last=channels_last, seed=seed)
    test_loader = None
    if test is not None:
        test_loader = GpuBatchLoader(test, 1000, train=False, mean=CIFAR10_MEAN, std=CIFAR10_STD,
                                     device=dev, channels_last=channels_last)
    if len(loader) == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the training set ({len(train)} images)")
    total_steps = math.ceil(epochs * len(loader))
    opt = torch.optim.AdamW(decay_groups(model, weight_decay, lr, scalar_lr_mult), lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, triangle_schedule(total_steps, warmup))
    curve = EpochEval(lambda learner: accuracy(model, test_loader, bf16=bf16))
    callbacks = [Timer(), Autocast(dev, bf16), GumbelAnneal(total_steps, gumbel_tau, gumbel_logit_scale),
                 Scheduler(sched), LossMeter(), Progress("epochs", enabled=progress)]
    if eval_every_epoch and test_loader is not None:
        callbacks.append(curve)
    learner = Learner(model, opt, loader, lambda out, y: F.cross_entropy(out.float(), y, label_smoothing=label_smoothing),
                      callbacks=callbacks, max_steps=total_steps)
    learner.fit(math.ceil(epochs))
    result = FitResult(test_accuracy=float("nan"), train_loss=learner.epoch_loss, test_accuracy_history=curve.values)
    step, seconds = learner.step, learner.train_seconds
    result.steps, result.train_seconds = step, seconds
    result.images_per_second = step * batch_size / max(seconds, 1e-9)
    if test_loader is not None:
        result.test_accuracy = accuracy(model, test_loader, bf16=bf16)
    model.eval()
    return result


def fit_seeds(
    build: Callable[[], nn.Module],
    train: LabelledImages,
    test: LabelledImages,
    seeds: Sequence[int],
    **fit_kwargs,
) -> tuple[list[FitResult], nn.Module]:
    """Train a fresh model per seed (``set_seed(seed)``, then ``build()``) with :func:`fit_fast`.

    Args:
        build: returns an untrained model.
        seeds: one run per seed (also the loader's seed).
        fit_kwargs: passed to :func:`fit_fast`.
    Returns:
        (one FitResult per seed, the trained model of the first seed).
    """
    if not seeds:
        raise ValueError("need at least one seed")
    results, first = [], None
    for seed in seeds:
        set_seed(seed)
        model = build()
        results.append(fit_fast(model, train, test, seed=seed, **fit_kwargs))
        first = model if first is None else first
    return results, first


# ``evaluate`` was renamed: it measures accuracy, and nblib.latents.evaluate is another thing (issue #14).
__getattr__ = moved(__name__, None, {"evaluate": "nblib.engine.cifar:accuracy"})
