"""One normalisation per dataset: the channel statistics, and the one function that applies them.

Every model here takes ``(x - mean) / std`` per channel of images scaled to [0, 1]. The
training loops, the evaluation, the input-gradient tools and the command-line inputs must
use the same numbers and the same arithmetic, or a model is evaluated on inputs it never saw
in training; so they all import them from here rather than writing their own.

The statistics are the usual published ones (per-channel mean and standard deviation of the
training pixels in [0, 1]); they stay fixed even where a local copy of a dataset differs
slightly, since changing them would change every trained result.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)

#: dataset name -> (mean, std), per channel
NORMALISATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": (CIFAR10_MEAN, CIFAR10_STD),
    "mnist": (MNIST_MEAN, MNIST_STD),
}


def normalise_images(images: torch.Tensor, mean: Sequence[float] | None, std: Sequence[float] | None,
                     dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """``(x - mean) / std`` over the channel dim (-3) of (..., C, H, W) images.

    Args:
        images: uint8 in [0, 255] (divided by 255 first) or floats in [0, 1].
        mean, std: one value per channel (or one for all); None skips that part.
        dtype: the result's dtype, also the one computed in (the statistics are cast to it);
            None keeps a float input's dtype (uint8 becomes float32).
        device: move the images there first (None: where they are).
    Returns:
        A new tensor, except for a float input with nothing to do (returned as is).
    """
    x = images if device is None else images.to(device)
    if x.dtype == torch.uint8:
        x = x.to(dtype or torch.float32).div_(255.0)
    elif dtype is not None:
        x = x.to(dtype)
    if mean is not None:
        x = x - torch.tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    if std is not None:
        x = x / torch.tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return x


def denormalise_images(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Inverse of :func:`normalise_images` (to [0, 1] floats, not clipped). (..., C, H, W)."""
    return x * torch.tensor(std, device=x.device).view(-1, 1, 1) + torch.tensor(mean, device=x.device).view(-1, 1, 1)


__all__ = ["CIFAR10_MEAN", "CIFAR10_STD", "MNIST_MEAN", "MNIST_STD", "NORMALISATION", "denormalise_images",
           "normalise_images"]
