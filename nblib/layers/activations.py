"""Activations by name: the one ``make_activation`` every model builder uses."""
from __future__ import annotations

from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU}


def make_activation(name: str, negative_slope: float | None = None) -> nn.Module:
    """``nn.Tanh``, ``nn.ReLU``, ``nn.ELU``, ``nn.LeakyReLU`` or ``nn.GELU`` by name.

    Args:
        negative_slope: LeakyReLU's slope (None: PyTorch's 0.01); ignored by the others.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    if name == "leaky_relu" and negative_slope is not None:
        return nn.LeakyReLU(negative_slope)
    return ACTIVATIONS[name]()


__all__ = ["ACTIVATIONS", "make_activation"]
