"""airbench94: the fast CIFAR-10 reference network and training procedure, on nblib's tensors.

Re-implemented after Keller Jordan's cifar10-airbench, ``airbench94.py``
(https://github.com/KellerJordan/cifar10-airbench, MIT licence; 94.01% mean test accuracy in
3.83 s on an A100 with the original CIFAR-10 pixels). Kept from the reference: the network
(frozen patch-whitening 2x2 convolution, three conv-pool-BN-GELU groups of widths 64/256/256
with identity-initialised convolutions and BatchNorms whose scale is frozen at 1, max-pool,
linear head scaled by 1/9), the decoupled hyperparameters (batch 1024, 9.9 epochs, Nesterov
SGD with momentum 0.85, lr 11.5 and weight decay 0.0153 per 1024 examples, 64x learning rate
on BatchNorm biases, label smoothing 0.2, triangular schedule 0.2 -> 1 -> 0.07 peaking at 23%),
the whitening bias trained for 3 epochs only, Lookahead-style EMA from epoch 3 every 5 steps,
alternating flips (a random flip once, then every odd epoch all images flipped), 2-pixel
reflect-padded translation, and test-time augmentation (mirror + 1-pixel translations).
Adapted: data are nblib :class:`~nblib.data.LabelledImages` (e.g. ``load_cifar10``), the
number of classes is a parameter, the device and dtype are parameters (fp16 on CUDA as in the
reference, fp32 on the CPU), and the loop reports training images per second.

On the JPEG re-encoded CIFAR-10 of this repository's data root the reference reaches about
90.7% (not 94.0%): compare with it only on the same data.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data import CIFAR10_MEAN, CIFAR10_STD, LabelledImages, batch_flip_lr, batch_translate, normalise_images
from ..engine import Callback, Learner, LossMeter, Progress, Scheduler, Timer
from ..runtime import device as resolve_device

HYP = dict(
    epochs=9.9, batch_size=1024, lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0,
    label_smoothing=0.2, ema_start_epochs=3, ema_decay_base=0.95, ema_decay_pow=3.0, ema_every=5,
    whiten_bias_epochs=3, translate=2, bn_momentum=0.6, base_width=64, whiten_kernel=2, scaling=1 / 9,
)


class _FrozenScaleBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d with its scale frozen at 1 (only the bias learns), eps 1e-12, momentum 0.4."""

    def __init__(self, channels: int):
        super().__init__(channels, eps=1e-12, momentum=1 - HYP["bn_momentum"])
        self.weight.requires_grad_(False)


class _IdentityInitConv(nn.Conv2d):
    """3x3 'same' convolution without bias, its first in_channels filters initialised to the identity."""

    def __init__(self, cin: int, cout: int):
        super().__init__(cin, cout, kernel_size=3, padding="same", bias=False)
        with torch.no_grad():
            nn.init.dirac_(self.weight[:cin])


class _ConvGroup(nn.Sequential):
    """conv -> maxpool 2 -> BN -> GELU -> conv -> BN -> GELU: (N, cin, H, W) -> (N, cout, H/2, W/2)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = _IdentityInitConv(cin, cout)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = _FrozenScaleBatchNorm(cout)
        self.act1 = nn.GELU()
        self.conv2 = _IdentityInitConv(cout, cout)
        self.norm2 = _FrozenScaleBatchNorm(cout)
        self.act2 = nn.GELU()


class _Mul(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def make_airbench94_net(n_classes: int = 10, device="cpu", dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """The airbench94 network: (N, 3, 32, 32) normalised images -> (N, n_classes) logits.

    The whitening layer ``net.whiten`` must be initialised from data
    (:func:`init_whitening`) before training; its weight stays frozen. BatchNorms stay fp32.
    """
    w = HYP["base_width"]
    k = HYP["whiten_kernel"]
    net = nn.Sequential()
    net.add_module("whiten", nn.Conv2d(3, 2 * 3 * k * k, k, padding=0, bias=True))  # 31x31
    net.add_module("act", nn.GELU())
    net.add_module("block1", _ConvGroup(2 * 3 * k * k, w))  # 15x15
    net.add_module("block2", _ConvGroup(w, 4 * w))  # 7x7
    net.add_module("block3", _ConvGroup(4 * w, 4 * w))  # 3x3
    net.add_module("pool", nn.MaxPool2d(3))  # 1x1
    net.add_module("flatten", nn.Flatten(1))
    net.add_module("head", nn.Linear(4 * w, n_classes, bias=False))
    net.add_module("scale", _Mul(HYP["scaling"]))
    with torch.no_grad():
        net.whiten.bias.zero_()
    net.whiten.weight.requires_grad_(False)
    net = net.to(device=device, dtype=dtype)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.float()
    if torch.device(device).type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    return net


@torch.no_grad()
def init_whitening(layer: nn.Conv2d, images: torch.Tensor, eps: float = 5e-4) -> None:
    """Set ``layer.weight`` to +-(patch covariance eigenvectors / sqrt(eigenvalue + eps)).

    Args:
        layer: the whitening conv, weight (2 * C*k*k, C, k, k).
        images: (N, C, H, W) normalised training images (airbench uses 5,000).
    """
    c = images.shape[1]
    kh, kw = layer.weight.shape[2:]
    patches = images.float().unfold(2, kh, 1).unfold(3, kw, 1)  # (N, C, H', W', kh, kw)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * kh * kw)  # (N*H'*W', C*kh*kw)
    cov = patches.T @ patches / patches.shape[0]
    eigval, eigvec = torch.linalg.eigh(cov)  # ascending
    eigval, eigvec = eigval.flip(0), eigvec.T.flip(0)  # descending, rows are eigenvectors
    filters = (eigvec / torch.sqrt(eigval + eps)[:, None]).view(-1, c, kh, kw)  # (C*k*k, C, kh, kw)
    layer.weight.copy_(torch.cat([filters, -filters]).to(layer.weight.dtype))


def _normalise(images: torch.Tensor, device, dtype) -> torch.Tensor:
    """CIFAR-10 normalisation computed in fp32 and only then cast (to fp16 on CUDA, as the reference)."""
    return normalise_images(images, CIFAR10_MEAN, CIFAR10_STD, dtype=torch.float32, device=device).to(dtype)


@torch.no_grad()
def tta_logits(net: nn.Module, x: torch.Tensor, level: int = 2, batch: int = 2000) -> torch.Tensor:
    """airbench's test-time augmentation: 0 none, 1 mirror, 2 mirror + 1-pixel translations. (N, classes)."""

    def mirror(v):
        return 0.5 * net(v) + 0.5 * net(v.flip(-1)) if level >= 1 else net(v)

    outs = []
    for v in x.split(batch):
        logits = mirror(v)
        if level >= 2:
            padded = F.pad(v, (1,) * 4, mode="reflect")  # (n, 3, H+2, W+2)
            h, w = v.shape[-2:]
            shifted = 0.5 * (mirror(padded[..., :h, :w]) + mirror(padded[..., 2:, 2:]))
            logits = 0.5 * logits + 0.5 * shifted
        outs.append(logits.float())
    return torch.cat(outs)


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
    training image, one value per epoch: what the regression pins compare)."""

    test_accuracy: float
    test_accuracy_no_tta: float
    train_seconds: float
    images_per_second: float
    steps: int
    train_loss: list[float] = field(default_factory=list)


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
) -> AirbenchResult:
    """Train airbench94 on ``train`` and evaluate on ``test``.

    Args:
        train, test: LabelledImages with uint8 (or [0, 1] float) (N, 3, 32, 32) images.
        epochs, batch_size: the reference's 9.9 and 1024 by default (lr and weight decay are
            per 1024 examples, so other batch sizes keep their meaning).
        dtype: network/data dtype; default fp16 on CUDA (the reference), fp32 elsewhere.
        tta_level: test-time augmentation, see :func:`tta_logits`.
        seed: seeds torch (initialisation, shuffling, augmentation).
    Returns:
        :class:`AirbenchResult`.
    """
    dev = resolve_device(device)
    dtype = dtype or (torch.float16 if dev.type == "cuda" else torch.float32)
    torch.manual_seed(seed)
    n_classes = int(max(train.labels.max(), test.labels.max())) + 1
    x_train = _normalise(train.images, dev, dtype)
    y_train = train.labels.to(dev)
    x_test, y_test = _normalise(test.images, dev, dtype), test.labels.to(dev)
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
    learner.train_seconds = seconds  # the whitening initialisation counts as training time
    learner.fit(math.ceil(epochs))
    step, seconds, train_loss = learner.step, learner.train_seconds, learner.epoch_loss
    net.eval()
    acc_plain = (tta_logits(net, x_test, 0).argmax(1) == y_test).float().mean().item()
    acc_tta = (tta_logits(net, x_test, tta_level).argmax(1) == y_test).float().mean().item()
    return AirbenchResult(acc_tta, acc_plain, seconds, step * batch_size / max(seconds, 1e-9), step, train_loss)
