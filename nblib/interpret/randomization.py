"""Cascading model-parameter randomisation (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

An explanation method, or a number computed from explanations, is only informative about what a
network *learned* if it changes when the learned weights are destroyed. The cascading test
re-initialises the layers of a trained network one at a time from the top (the logits) down and
recomputes the explanation after each step; a reading that survives the randomisation measures the
architecture (and the input), not the training.

    fresh = make_model(kind, 2)                        # the same architecture, untrained
    steps = cascading_randomization(trained, fresh)    # [(k=0, [], copy), (1, ["scale"], copy), ...]
    for k, layers, model in steps: ...                 # the last step is ``fresh`` itself, re-assembled

"Re-initialised" means: the layer's parameters *and buffers* (BatchNorm running statistics) are
taken from ``fresh``, so the fully randomised model is exactly the untrained reference network.
Every step is a deep copy; the trained model is never modified.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import nn

__all__ = ["RandomizedModel", "cascading_randomization", "parameterised_layers", "randomize_layers"]


def parameterised_layers(model: nn.Module) -> list[str]:
    """Names of the direct children that hold parameters or buffers, in forward (bottom-up) order.

    Args:
        model: usually an ``nn.Sequential`` with named layers (e.g. from ``make_model``); children
            registration order is taken as the forward order.
    Returns:
        e.g. ``["conv1", "bn1", "conv2", "bn2", "smpool", "scale"]`` (pooling, activations and
        flatten have no state and are left out).
    """
    return [name for name, child in model.named_children()
            if any(True for _ in child.parameters()) or any(True for _ in child.buffers())]


def _fresh(fresh: nn.Module | Callable[[], nn.Module]) -> nn.Module:
    return fresh if isinstance(fresh, nn.Module) else fresh()


def randomize_layers(model: nn.Module, layers: Sequence[str], fresh: nn.Module | Callable[[], nn.Module]) -> nn.Module:
    """A deep copy of ``model`` whose named children take their parameters and buffers from ``fresh``.

    Args:
        model: the trained network (left unchanged).
        layers: names of submodules of ``model`` to re-initialise: direct children (``"conv2"``) or
            dotted paths (``"merge.branches.0.conv2"``, as in ``model.named_modules()``).
        fresh: an untrained network of the same architecture, or a callable building one.
    Returns:
        The copy, in the training/eval mode of ``model``, on ``model``'s device.
    Raises:
        KeyError: a name is not a submodule of ``model`` or of ``fresh``.
        RuntimeError: the two children's states do not match (different architectures).
    """
    out = copy.deepcopy(model)
    ref = dict(_fresh(fresh).named_modules())
    children = dict(out.named_modules())
    for name in layers:
        if not name or name not in children or name not in ref:
            raise KeyError(f"layer {name!r} is not a child (or dotted submodule) of both models; children: {list(dict(out.named_children()))}")
        state = {k: v.detach().clone() for k, v in ref[name].state_dict().items()}
        children[name].load_state_dict(state, strict=True)  # copies into the existing tensors (device kept)
    return out


@dataclass
class RandomizedModel:
    """One step of the cascade.

    Attributes:
        k: number of layers re-initialised (0: the trained model).
        layers: their names, top first.
        model: the (copied) network.
    """

    k: int
    layers: list[str]
    model: nn.Module

    @property
    def label(self) -> str:
        """'trained', or '<lowest re-initialised layer> and above'."""
        return "trained" if self.k == 0 else f"{self.layers[-1]} and above"


def cascading_randomization(
    model: nn.Module,
    fresh: nn.Module | Callable[[], nn.Module],
    layers: Sequence[str] | None = None,
    depth: int | None = None,
) -> list[RandomizedModel]:
    """Copies of ``model`` with the top k of its parameterised layers re-initialised, k = 0, 1, ..., L.

    Args:
        model: the trained network (left unchanged).
        fresh: an untrained network of the same architecture (or a callable building one, called
            once): its state is what "re-initialised" means, so step L equals it.
        layers: the cascade's layers in forward order (default :func:`parameterised_layers`);
            re-initialised from the last one backwards.
        depth: stop after this many layers (default all L).
    Returns:
        ``depth + 1`` :class:`RandomizedModel` steps; step k re-initialises ``layers[-k:]``.
    """
    fresh = _fresh(fresh)
    layers = list(parameterised_layers(model) if layers is None else layers)
    depth = len(layers) if depth is None else min(depth, len(layers))
    steps = []
    for k in range(depth + 1):
        top = layers[::-1][:k]
        steps.append(RandomizedModel(k, top, randomize_layers(model, top, fresh) if k else copy.deepcopy(model)))
    return steps
