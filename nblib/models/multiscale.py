"""Multi-scale and ensembled shallow backbones pooled per class by one SoftMaxPool (notebook 07).

The research log's untried ideas (003, 21.10.2024 and 28.10.2024): "(SoftMax)pool over different
convolutional backbones as a single architecture seems to be bound to a particular object scale",
and "the last layer ... can represent the entire image or just a smaller sliding window ... the
ensemble of different shallow models is the way to go". Every branch is the top of notebook 05's
directional model with its own pooling and kernel, i.e. its own window on the image; its units are
split into per-class blocks and the blocks of all branches are concatenated class by class, so the
class's SoftMaxPool is an OR over the variants of every branch::

    conv1   Conv2d(3, width, 10, stride=2)        (N, 3, 32, 32) -> (N, width, 12, 12)   shared
            (shared_conv1=False: one conv1 per branch, an ensemble of backbones)
    branch b (one of BRANCHES, each with n * u_b units, u_b = units_per_class / len(branches)):
      mp1   MaxPool2d(pool_b)                     -> (N, width, 12 / pool_b, ...)
      bn1   BatchNorm2d(width), act1 GELU
      conv2 Conv2d(width, n * u_b, kernel_b)      -> (N, n * u_b, h_b, h_b)   positive if asked
      (bn2  BatchNorm2d(n * u_b))
      amp1  AdaptiveMaxPool2d(1), flatten         -> (N, n * u_b)
    merge   per class: concatenate the branches' blocks -> (N, n * units_per_class)   [backbone ends]
    smpool  SoftMaxPool(n), scale Scale()         -> (N, n)

Branch windows (on the 12 x 12 map of the 10 x 10 first-layer filters, stride 2):
``"global"`` pool 3, kernel 4: the whole image (notebook 05's directional model);
``"window"`` pool 2, kernel 3, then a max over 4 x 4 positions: a sliding window of about
two thirds of the image (smaller objects, anywhere); ``"local"`` pool 3, kernel 1, then a max
over 4 x 4 positions: one part anywhere (the conjunction-disjunction model's "is it there?").
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from ..layers import PositiveConv2d, Scale, SoftMaxPool

#: branch name -> (max-pool size on the 12 x 12 conv1 map, conv2 kernel).
BRANCHES = {"global": (3, 4), "window": (2, 3), "local": (3, 1)}


def _conv(positive: bool, reparam: str, *args, **kwargs) -> nn.Module:
    return PositiveConv2d(*args, reparam=reparam, **kwargs) if positive else nn.Conv2d(*args, **kwargs)


class ClassMerge(nn.Module):
    """Run parallel branches on one input and concatenate their outputs class by class.

    Args:
        branches: modules mapping the same input to (N, n_classes * u_b) units, each laid out as
            ``n_classes`` consecutive blocks of ``u_b`` units (the SoftMaxPool layout).
        n_classes: classes.
    Input/output:
        (N, ...) -> (N, n_classes * sum(u_b)): block c holds class c's units of branch 0, 1, ...
    """

    def __init__(self, branches: Sequence[nn.Module], n_classes: int):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.n_classes = n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [b(x) for b in self.branches]  # each (N, n_classes * u_b)
        n = x.shape[0]
        return torch.cat([o.reshape(n, self.n_classes, -1) for o in outs], 2).flatten(1)  # (N, n_classes * U)


def _branch(name: str, first: list, width: int, units: int, positive: bool, reparam: str,
            bn2: bool, bn_affine: bool) -> nn.Sequential:
    pool, kernel = BRANCHES[name]
    return nn.Sequential(OrderedDict([
        *first,
        ("mp1", nn.MaxPool2d(pool)),
        ("bn1", nn.BatchNorm2d(width, affine=bn_affine or bn2)),
        ("act1", nn.GELU()),
        ("conv2", _conv(positive, reparam, width, units, kernel)),
        *([("bn2", nn.BatchNorm2d(units, affine=bn_affine))] if bn2 else []),
        ("amp1", nn.AdaptiveMaxPool2d((1, 1))),
        ("flatten", nn.Flatten(1)),
    ]))


def make_multiscale_model(
    n_classes: int = 10,
    branches: Sequence[str] = ("global", "window"),
    width: int = 120,
    units_per_class: int = 60,
    positive: bool | str = True,
    bn2: bool | None = None,
    bn_affine: bool = True,
    shared_conv1: bool = True,
    reparam: str = "square",
) -> nn.Sequential:
    """Build a multi-scale (shared conv1) or ensembled (one conv1 per branch) SoftMaxPool classifier.

    Args:
        n_classes: output classes.
        branches: names from :data:`BRANCHES`, repeats allowed (e.g. ``("global", "global")`` with
            ``shared_conv1=False``: a SoftMaxPool over two directional backbones).
        width: first-layer filters (per branch when not shared).
        units_per_class: representation units per class over all branches (split evenly).
        positive: False; True / "hidden" (non-negative conv2); "all" (also conv1).
        bn2: BatchNorm2d over each branch's units (default: exactly when conv2 is positive).
        bn_affine: ``affine`` of the last BatchNorm of each branch (bn2 if present, else bn1).
        shared_conv1: one first layer for all branches (multi-scale) or one per branch (ensemble).
        reparam: the positive reparameterisation (:mod:`nblib.layers.positive`).
    Returns:
        ``nn.Sequential`` (conv1 when shared, merge, smpool, scale) mapping (N, 3, 32, 32) ->
        (N, n_classes), with ``kind = "multiscale"``, ``n_classes``, ``feature_dim`` and
        ``branches``; :func:`nblib.models.backbone` gives the (N, n_classes * units_per_class) units.
    """
    unknown = [b for b in branches if b not in BRANCHES]
    if not branches or unknown:
        raise ValueError(f"branches must be a non-empty list of {tuple(BRANCHES)}, got {tuple(branches)}")
    if units_per_class % len(branches):
        raise ValueError(f"units_per_class {units_per_class} is not divisible by {len(branches)} branches")
    if positive not in (False, True, "hidden", "all"):
        raise ValueError(f"positive must be False, True, 'hidden' or 'all', got {positive!r}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    pos_first, pos_hidden = positive == "all", positive in (True, "hidden", "all")
    has_bn2 = pos_hidden if bn2 is None else bool(bn2)
    units = n_classes * (units_per_class // len(branches))

    def first():
        return [("conv1", _conv(pos_first, reparam, 3, width, 10, stride=2))]

    parts = []
    if shared_conv1:
        parts += first()
    merge = ClassMerge([_branch(b, [] if shared_conv1 else first(), width, units, pos_hidden, reparam, has_bn2, bn_affine)
                        for b in branches], n_classes)
    parts += [("merge", merge), ("smpool", SoftMaxPool(n_classes)), ("scale", Scale())]
    model = nn.Sequential(OrderedDict(parts))
    model.kind, model.n_classes = "multiscale", n_classes
    model.feature_dim, model.branches = n_classes * units_per_class, tuple(branches)
    return model


def representation_layers(model: nn.Module) -> list[str]:
    """Dotted names of the representation layers (every conv2, bn2) and the head: the modules a
    "representation layer and above" randomisation re-initialises (see
    :func:`nblib.interpret.randomize_layers`). Works for :func:`make_model` models (conv2 / conv3,
    mix, bn2) and :func:`make_multiscale_model` models.
    """
    top = ("conv2", "conv3", "mix", "bn2", "smpool", "scale", "mean")
    names = [name for name, m in model.named_modules()
             if name and name.split(".")[-1] in top and (any(True for _ in m.parameters()) or any(True for _ in m.buffers()))]
    if not names:
        raise ValueError("model has no conv2 / conv3 / bn2 / smpool / scale layers")
    return names


__all__ = ["BRANCHES", "ClassMerge", "make_multiscale_model", "representation_layers"]
