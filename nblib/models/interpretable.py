"""The research log's interpretable CIFAR-10 networks, with the log's layer names.

Three kinds (``make_model(kind, ...)``); the defaults reproduce the log's plane-vs-car models
(about 120 first-layer 10x10 filters) and grow the class-specific units with ``n_classes``:

``"conjdisj"`` (conjunction-disjunction, log: ~90% plane vs car)::

    conv1  Conv2d(3, n*60, 10, stride=2)      (N, 3, 32, 32) -> (N, n*60, 12, 12)
    amp1   AdaptiveMaxPool2d(1), flatten      -> (N, n*60)          part present anywhere?
    bn1    BatchNorm1d(n*60)                  -> (N, n*60)          [backbone ends here]
    mean   Mean(n*12)                         -> (N, n*12)          AND of 5 parts = a prototype
    smpool SoftMaxPool(n)                     -> (N, n)             OR of a class's 12 prototypes
    scale  Scale()                            -> (N, n)             logit scale

``"directional"`` (directional bias with MaxPool, log: 94% plane vs car)::

    conv1  Conv2d(3, 120, 10, stride=2)       (N, 3, 32, 32) -> (N, 120, 12, 12)
    mp1    MaxPool2d(3)                       -> (N, 120, 4, 4)     parts with wiggle room
    bn1    BatchNorm2d(120), act1 GELU        -> (N, 120, 4, 4)
    conv2  Conv2d(120, n*60, 4)               -> (N, n*60, 1, 1)    parts at coarse positions
    (bn2   BatchNorm2d(n*60), positive only)
    amp1   AdaptiveMaxPool2d(1), flatten      -> (N, n*60)          [backbone ends here]
    smpool SoftMaxPool(n), scale Scale()      -> (N, n)

``"gumbel"`` (log, 12.08.2024: one first-layer filter per position of a 3x3 GumbelConv)::

    conv1  Conv2d(3, 120, 10, stride=1)       (N, 3, 32, 32) -> (N, 120, 23, 23)
    mp1    MaxPool2d(5, stride=10, padding=2) -> (N, 120, 3, 3)     barely overlapping patches
           (by default one ConvMaxPool2d named conv1 computes both: only the outputs mp1 reads)
    bn1    BatchNorm2d(120), act1 GELU        -> (N, 120, 3, 3)
    conv3  GumbelConv2d(120, n*30, 3, hard)   -> (N, n*30, 1, 1)    one channel per position
    (bn2   BatchNorm2d(n*30), positive only)
    amp1   AdaptiveMaxPool2d(1), flatten      -> (N, n*30)          [backbone ends here]
    smpool SoftMaxPool(n), scale Scale()      -> (N, n)

Switches: ``positive`` constrains weights to be non-negative (``True``/``"hidden"``: every
convolution after the first, i.e. conv2 / conv3, the log's "positive" networks; ``"all"``: also
conv1). A positive conv2 / conv3 is followed by ``bn2 BatchNorm2d`` over the representation
units, the log's normalisation that keeps a few strong units from dominating the SoftMaxPool
(02.09 and 16.09.2024); ``bn2=True/False`` adds or removes it independently of ``positive``, so
the two can be compared one at a time. ``bn_affine`` sets ``affine`` of the *last* BatchNorm (bn2
when present, bn1 otherwise), the switch the log found to matter on 2 classes; ``augmax`` wraps
the backbone in :class:`~nblib.layers.AugMax`. For the GumbelConv model, ``conv3="conv"`` puts a
plain (or positive) ``Conv2d`` of the same shape in conv3's place, and ``mix=True`` (directional
and gumbel) adds ``mix``, a 1x1 convolution over the representation units right after conv2 /
conv3 (before bn2), the log's "intermediate 1x1 convolutions to mix the channels" (22.07.2024)::

    conv3  GumbelConv2d or Conv2d(120, n*30, 3) -> (N, n*30, 1, 1)
    (mix   Conv2d(n*30, n*30, 1), positive when conv3 is; mix=True only)
    (bn2   BatchNorm2d(n*30))

For reuse as a feature extractor (e.g. notebook 06): :func:`backbone` returns the layers before
the head (Mean / SoftMaxPool / Scale), mapping (N, 3, 32, 32) -> (N, D), with
``D = model.feature_dim``: ``n_classes * units_per_class`` = 120 for conjdisj and directional,
60 for gumbel with 2 classes and the default sizes.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..layers import AugMax, ConvMaxPool2d, GumbelConv2d, Mean, PositiveConv2d, Scale, SoftMaxPool

KINDS = ("conjdisj", "directional", "gumbel")
HEAD_TYPES = (Mean, SoftMaxPool, Scale)
#: units per class in the representation layer (the log's 120 = 2 * 60, 60 = 2 * 30).
DEFAULT_UNITS_PER_CLASS = {"conjdisj": 60, "directional": 60, "gumbel": 30}
PARTS_PER_PROTOTYPE = 5  # conjdisj: Mean over 5 consecutive part detectors


def _conv(positive: bool, reparam: str, *args, **kwargs) -> nn.Module:
    return PositiveConv2d(*args, reparam=reparam, **kwargs) if positive else nn.Conv2d(*args, **kwargs)


def _top(units: int, positive: bool, reparam: str, mix: bool, bn2: bool, bn_affine: bool) -> list:
    """The layers between the representation convolution and the head: (mix), (bn2), amp1, flatten."""
    return [
        *([("mix", _conv(positive, reparam, units, units, 1))] if mix else []),
        *([("bn2", nn.BatchNorm2d(units, affine=bn_affine))] if bn2 else []),
        ("amp1", nn.AdaptiveMaxPool2d((1, 1))),
        ("flatten", nn.Flatten(1)),
    ]


def make_model(
    kind: str,
    n_classes: int = 2,
    positive: bool | str = False,
    bn_affine: bool = True,
    width: int = 120,
    units_per_class: int | None = None,
    augmax: bool = False,
    augmax_angles: tuple[float, ...] = (0.0, -15.0, 15.0),
    gumbel_k: int = 1,
    gumbel_hard: bool = True,
    reparam: str = "square",
    bn2: bool | None = None,
    conv3: str = "gumbel",
    mix: bool = False,
    fused_pool: bool = True,
) -> nn.Sequential:
    """Build one of the log's models (see the module docstring for the layer lists).

    Args:
        kind: "conjdisj", "directional" or "gumbel".
        n_classes: output classes.
        positive: False; True or "hidden" (non-negative conv2/conv3); "all" (also conv1).
        bn_affine: learnable gamma/beta in the last BatchNorm (bn2 after a positive conv2/conv3,
            else bn1; the other BatchNorm keeps its affine part).
        width: first-layer filters (directional, gumbel; conjdisj uses n_classes * units_per_class).
        units_per_class: representation units per class (default 60, 60, 30 as in the log).
        augmax: take every backbone unit's max over flipped / rotated views.
        augmax_angles: the rotations (degrees) of those views.
        gumbel_k: input channels per kernel position of the GumbelConv (1 in the log).
        gumbel_hard: straight-through one-hot samples (the log's ``hard=True``).
        reparam: the positive reparameterisation (see :mod:`nblib.layers.positive`).
        bn2: BatchNorm2d over the representation units after conv2 / conv3 (directional, gumbel);
            default (None): exactly when ``positive`` constrains them, as in the log.
        conv3: "gumbel" (the log's GumbelConv2d) or "conv" (a Conv2d of the same shape in its place).
        mix: a 1x1 convolution ``mix`` (units -> units) after conv2 / conv3; positive when they are.
        fused_pool: gumbel: compute conv1 + mp1 as one :class:`~nblib.layers.ConvMaxPool2d` named
            ``conv1`` (only the 225 of 529 conv outputs the pool reads; same function and weights).
            False (or ``positive="all"``) keeps the separate ``conv1`` and ``mp1`` layers.
    Returns:
        ``nn.Sequential`` with named layers, mapping (N, 3, 32, 32) -> (N, n_classes) logits,
        carrying ``kind``, ``n_classes`` and ``feature_dim`` (D of :func:`backbone`) attributes.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    if positive not in (False, True, "hidden", "all"):
        raise ValueError(f"positive must be False, True, 'hidden' or 'all', got {positive!r}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if conv3 not in ("gumbel", "conv"):
        raise ValueError(f"conv3 must be 'gumbel' or 'conv', got {conv3!r}")
    pos_first = positive == "all"
    pos_hidden = positive in (True, "hidden", "all")
    has_bn2 = pos_hidden if bn2 is None else bool(bn2)
    upc = units_per_class or DEFAULT_UNITS_PER_CLASS[kind]
    units = n_classes * upc

    if kind == "conjdisj":
        if pos_hidden and not pos_first:
            raise ValueError("conjdisj has no convolution after the first; use positive='all' to constrain conv1")
        if bn2 or mix or conv3 != "gumbel":
            raise ValueError("conjdisj has no conv2 / conv3: bn2, mix and conv3 do not apply")
        if upc % PARTS_PER_PROTOTYPE:
            raise ValueError(f"conjdisj needs units_per_class divisible by {PARTS_PER_PROTOTYPE}, got {upc}")
        features = [
            ("conv1", _conv(pos_first, reparam, 3, units, 10, stride=2, padding=0)),
            ("amp1", nn.AdaptiveMaxPool2d((1, 1))),
            ("flatten", nn.Flatten(1)),
            ("bn1", nn.BatchNorm1d(units, affine=bn_affine)),
        ]
        head = [("mean", Mean(units // PARTS_PER_PROTOTYPE))]
    elif kind == "directional":
        features = [
            ("conv1", _conv(pos_first, reparam, 3, width, 10, stride=2, padding=0)),
            ("mp1", nn.MaxPool2d(3)),
            ("bn1", nn.BatchNorm2d(width, affine=bn_affine or has_bn2)),
            ("act1", nn.GELU()),
            ("conv2", _conv(pos_hidden, reparam, width, units, 4, stride=1)),
            *_top(units, pos_hidden, reparam, mix, has_bn2, bn_affine),
        ]
        head = []
    else:  # gumbel
        if fused_pool and not pos_first:  # the same function as conv1 + mp1, a third of the work
            first = [("conv1", ConvMaxPool2d(3, width, 10, pool_kernel=5, pool_stride=10, pool_padding=2))]
        else:
            first = [("conv1", _conv(pos_first, reparam, 3, width, 10, stride=1, padding=0)),
                     ("mp1", nn.MaxPool2d(5, padding=2, stride=10))]
        features = [
            *first,
            ("bn1", nn.BatchNorm2d(width, affine=bn_affine or has_bn2)),
            ("act1", nn.GELU()),
            ("conv3", GumbelConv2d(width, units, 3, stride=1, k=gumbel_k, hard=gumbel_hard, positive=pos_hidden,
                                   reparam=reparam) if conv3 == "gumbel" else _conv(pos_hidden, reparam, width, units, 3)),
            *_top(units, pos_hidden, reparam, mix, has_bn2, bn_affine),
        ]
        head = []
    head += [("smpool", SoftMaxPool(n_classes)), ("scale", Scale())]
    if augmax:
        features = [("augmax", AugMax(nn.Sequential(OrderedDict(features)), angles=augmax_angles, flip=True))]
    model = nn.Sequential(OrderedDict(features + head))
    model.kind, model.n_classes, model.feature_dim = kind, n_classes, units
    return model


def backbone(model: nn.Sequential) -> nn.Sequential:
    """The layers of ``model`` before its head (the first Mean / SoftMaxPool / Scale).

    Shares the modules (and so the trained weights) with ``model``; put it in eval mode for
    deterministic features (BatchNorm running statistics, GumbelConv argmax).

    Args:
        model: a model from :func:`make_model` (or any ``nn.Sequential`` with such a head).
    Returns:
        ``nn.Sequential`` mapping (N, 3, 32, 32) -> (N, D), D = ``model.feature_dim``
        (conjdisj: the BatchNorm-ed max-pooled part scores; directional, gumbel: the
        max-pooled representation units, BatchNorm-ed in positive models). ``.feature_dim`` is set when known.
    """
    layers = []
    for name, module in model.named_children():
        if isinstance(module, HEAD_TYPES):
            break
        layers.append((name, module))
    if not layers or len(layers) == len(model):
        raise ValueError("model has no Mean/SoftMaxPool/Scale head after its first layer; "
                         "build it with nblib.models.make_model")
    out = nn.Sequential(OrderedDict(layers))
    if hasattr(model, "feature_dim"):
        out.feature_dim = model.feature_dim
    return out


def make_backbone(kind: str, n_classes: int = 2, **kwargs) -> nn.Sequential:
    """``backbone(make_model(kind, n_classes, **kwargs))``: an untrained (N, 3, 32, 32) -> (N, D) extractor."""
    return backbone(make_model(kind, n_classes, **kwargs))


def gumbel_layers(model: nn.Module) -> list[GumbelConv2d]:
    """Every GumbelConv2d in ``model`` (empty for the other kinds)."""
    return [m for m in model.modules() if isinstance(m, GumbelConv2d)]


def with_augmax(model: nn.Sequential, angles: tuple[float, ...] = (0.0, -15.0, 15.0), flip: bool = True) -> nn.Sequential:
    """The same (trained) model with augmentation max-matching put in front of its head.

    Every backbone unit becomes its maximum over the fixed views (see :class:`~nblib.layers.AugMax`);
    the modules, and so the weights, are shared with ``model``, nothing is retrained.

    Returns:
        ``nn.Sequential(augmax=AugMax(backbone(model)), <head layers>)``: (N, 3, 32, 32) -> (N, n_classes).
    """
    feats = backbone(model)
    head = [(name, m) for name, m in model.named_children() if name not in dict(feats.named_children())]
    out = nn.Sequential(OrderedDict([("augmax", AugMax(feats, angles, flip))] + head))
    for attr in ("kind", "n_classes", "feature_dim"):
        if hasattr(model, attr):
            setattr(out, attr, getattr(model, attr))
    return out


__all__ = ["DEFAULT_UNITS_PER_CLASS", "HEAD_TYPES", "KINDS", "PARTS_PER_PROTOTYPE", "backbone", "gumbel_layers",
           "make_backbone", "make_model", "with_augmax"]
