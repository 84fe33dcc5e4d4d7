"""airbench94's training procedure on the engine: :func:`train_airbench94` (the network and its
hyperparameters are in :mod:`nblib.models.airbench`, with the reference's description)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data import LabelledImages, batch_flip_lr, batch_translate
from ..models.airbench import HYP, normalise_inputs, init_whitening, make_airbench94_net, tta_logits
from ..runtime import device as resolve_device
from .callbacks import EpochEval, LossMeter, Progress, Scheduler, Timer
from .learner import Callback, Learner


class LookaheadEMA(Callback):
    """airbench94's Lookahead: every ``ema_every`` steps from epoch ``ema_start_epochs`` on, an
    exponential average of the weights (decay rising along the run) is taken and the network
    continues from it; at the end of each epoch the network is set to the average."""

    order = 20

    def __init__(self, total_steps: int):
        self.total_steps, self.ema = total_steps, None

    def _state(self, learner) -> list[torch.Tensor]:
        return [v for v in learner.model.state_dict().values() if v.dtype in (torch.float16, torch.float32)]

    def after_batch(self, learner):
        if learner.epoch >= HYP["ema_start_epochs"] and learner.step % HYP["ema_every"] == 0:
            state = self._state(learner)
            if self.ema is None:
                self.ema = [v.detach().clone() for v in state]
            else:
                rho = HYP["ema_decay_base"] ** HYP["ema_every"] * (learner.step / self.total_steps) ** HYP["ema_decay_pow"]
                torch._foreach_lerp_(self.ema, state, 1 - rho)
                torch._foreach_copy_(state, self.ema)  # Lookahead: the net continues from the average

    def after_epoch(self, learner):
        if self.ema is not None:
            torch._foreach_copy_(self._state(learner), self.ema)


@dataclass
class AirbenchResult:
    """test_accuracy (with TTA), test_accuracy_no_tta, train_seconds (training steps incl. whitening
    init, synchronised), images_per_second, steps, train_loss (mean label-smoothed cross-entropy per
    training image, one value per epoch: what the regression pins compare), test_accuracy_history
    (accuracy without TTA after each epoch, only with ``eval_every_epoch``), net (the trained
    network in eval mode: normalised images -> logits, for gradient readings)."""

    test_accuracy: float
    test_accuracy_no_tta: float
    train_seconds: float
    images_per_second: float
    steps: int
    train_loss: list[float] = field(default_factory=list)
    test_accuracy_history: list[float] = field(default_factory=list)
    net: nn.Module | None = field(default=None, repr=False)


def train_airbench94(
    train: LabelledImages,
    test: LabelledImages,
    epochs: float = HYP["epochs"],
    batch_size: int = HYP["batch_size"],
    device="auto",
    dtype: torch.dtype | None = None,
    tta_level: int = 2,
    seed: int = 0,
    progress: bool = True,
    eval_every_epoch: bool = False,
) -> AirbenchResult:
    """Train airbench94 on ``train`` and evaluate on ``test``.

    Args:
        train, test: LabelledImages with uint8 (or [0, 1] float) (N, 3, 32, 32) images.
        epochs, batch_size: the reference's 9.9 and 1024 by default (lr and weight decay are
            per 1024 examples, so other batch sizes keep their meaning).
        dtype: network/data dtype; default fp16 on CUDA (the reference), fp32 elsewhere.
        tta_level: test-time augmentation, see :func:`tta_logits`.
        seed: seeds torch (initialisation, shuffling, augmentation).
        eval_every_epoch: also record the test accuracy without TTA after each epoch (outside the timing).
    Returns:
        :class:`AirbenchResult`.
    """
    dev = resolve_device(device)
    dtype = dtype or (torch.float16 if dev.type == "cuda" else torch.float32)
    torch.manual_seed(seed)
    n_classes = int(max(train.labels.max(), test.labels.max())) + 1
    x_train = normalise_inputs(train.images, dev, dtype)
    y_train = train.labels.to(dev)
    x_test, y_test = normalise_inputs(test.images, dev, dtype), test.labels.to(dev)
    if dev.type == "cuda":
        x_train = x_train.contiguous(memory_format=torch.channels_last)
        x_test = x_test.contiguous(memory_format=torch.channels_last)
    steps_per_epoch = x_train.shape[0] // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the training set ({x_train.shape[0]} images)")
    total_steps = math.ceil(steps_per_epoch * epochs)

    m = HYP["momentum"]
    kilostep = 1024 * (1 + 1 / (1 - m))
    lr = HYP["lr"] / kilostep
    wd = HYP["weight_decay"] * batch_size / kilostep
    lr_bias = lr * HYP["bias_scaler"]
    net = make_airbench94_net(n_classes, dev, dtype)
    norm_biases = [p for n, p in net.named_parameters() if "norm" in n and p.requires_grad]
    others = [p for n, p in net.named_parameters() if "norm" not in n and p.requires_grad]
    opt = torch.optim.SGD([dict(params=norm_biases, lr=lr_bias, weight_decay=wd / lr_bias),
                           dict(params=others, lr=lr, weight_decay=wd / lr)], momentum=m, nesterov=True)
    peak = int(0.23 * total_steps)

    def schedule(step: int) -> float:  # triangle 0.2 -> 1 (at 23%) -> 0.07
        if step < peak:
            return 0.2 + 0.8 * step / max(peak, 1)
        return 1.0 + (0.07 - 1.0) * (step - peak) / max(total_steps - peak, 1)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    sync()
    t0 = time.perf_counter()
    init_whitening(net.whiten, x_train[:5000])
    sync()
    seconds = time.perf_counter() - t0

    flipped = batch_flip_lr(x_train)  # the one random flip; odd epochs flip everything

    def epoch_batches(learner: Learner):
        net.whiten.bias.requires_grad_(learner.epoch < HYP["whiten_bias_epochs"])
        images = batch_translate(flipped, HYP["translate"])
        if learner.epoch % 2 == 1:
            images = images.flip(-1)
        order = torch.randperm(images.shape[0], device=dev)
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            yield images[idx], y_train[idx]

    def loss_func(out, y):
        return F.cross_entropy(out.float(), y, label_smoothing=HYP["label_smoothing"], reduction="sum")

    learner = Learner(net, opt, epoch_batches, loss_func, max_steps=total_steps,
                      callbacks=[Timer(), Scheduler(sched), LossMeter(weight=lambda l: 1), LookaheadEMA(total_steps),
                                 Progress("airbench94", enabled=progress)])
    curve = EpochEval(lambda learner: (tta_logits(net, x_test, 0).argmax(1) == y_test).float().mean().item())
    if eval_every_epoch:
        learner.add_callbacks(curve)  # order 20, after the Lookahead average is in place
    learner.train_seconds = seconds  # the whitening initialisation counts as training time
    learner.fit(math.ceil(epochs))
    step, seconds, train_loss = learner.step, learner.train_seconds, learner.epoch_loss
    net.eval()
    acc_plain = (tta_logits(net, x_test, 0).argmax(1) == y_test).float().mean().item()
    acc_tta = acc_plain if tta_level == 0 else (tta_logits(net, x_test, tta_level).argmax(1) == y_test).float().mean().item()
    return AirbenchResult(acc_tta, acc_plain, seconds, step * batch_size / max(seconds, 1e-9), step, train_loss,
                          curve.values, net)
