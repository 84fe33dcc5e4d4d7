"""A device-resident batch loader in the style of airbench.

The whole dataset lives on the device as one normalised tensor; each epoch draws one
permutation and augments every image at once (random horizontal flip, random
translation by reflect-padding and cropping), so there is no per-batch host work, no
worker processes and no host-to-device copy in the training loop.
"""
from __future__ import annotations

import torch

from ..deprecation import moved
from .common import LabelledImages
from .normalisation import normalise_images

__getattr__ = moved(__name__, "nblib.data.normalisation", ("CIFAR10_MEAN", "CIFAR10_STD"))


def batch_flip_lr(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Flip a random half of the images left-right. images: (N, C, H, W)."""
    flip = torch.rand(images.shape[0], device=images.device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def batch_translate(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by its own random offset in [-pad, pad]^2, filling by reflection.

    Args:
        images: (N, C, H, W).
        pad: the largest shift in pixels.
    Returns:
        (N, C, H, W) translated images.
    """
    if pad == 0:
        return images
    n, c, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad,) * 4, mode="reflect")  # (N, C, H+2p, W+2p)
    dev = images.device
    dy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    # One contiguous crop per offset ((2p+1)^2 slices) instead of a per-pixel gather with four broadcast
    # index tensors: each image is moved once. Same draws, same result (tests/test_data.py).
    out = torch.empty_like(images)
    offset = dy * (2 * pad + 1) + dx  # (N,) which crop each image takes
    order = torch.argsort(offset, stable=True)
    counts = torch.bincount(offset, minlength=(2 * pad + 1) ** 2).tolist()  # one host read per call
    start = 0
    for k, count in enumerate(counts):
        if count:
            idx = order[start:start + count]
            a, b = divmod(k, 2 * pad + 1)
            out[idx] = padded[idx, :, a:a + h, b:b + w]
            start += count
    return out  # (N, C, H, W)


class GpuBatchLoader:
    """Iterate (images, labels) batches from tensors kept on ``device``.

    Args:
        data: LabelledImages (uint8 or float images (N, C, H, W), labels (N,)).
        batch_size: images per batch.
        train: shuffle and augment each epoch (and drop the last partial batch).
        flip: random horizontal flips (train only).
        translate: largest random shift in pixels (train only); 0 disables.
        mean, std: per-channel normalisation applied once (:func:`~nblib.data.normalise_images`);
            mean None skips it.
        device: where the data lives ("cuda" for speed).
        channels_last: store images in channels-last memory format (faster convs on GPU).
        dtype: image dtype on the device (e.g. torch.bfloat16 halves memory).
        seed: seed of the loader's own generator (shuffles and augmentation).
    """

    def __init__(
        self,
        data: LabelledImages,
        batch_size: int,
        train: bool = True,
        flip: bool = True,
        translate: int = 2,
        mean=None,
        std=None,
        device="cpu",
        channels_last: bool = False,
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
    ):
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        images = normalise_images(data.images, mean, std if mean is not None else None, dtype=dtype, device=device)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        self.images, self.labels = images, data.labels.to(device)
        self.batch_size, self.train = batch_size, train
        self.flip, self.translate = flip, translate
        self.channels_last = channels_last
        self.generator = torch.Generator(device=images.device).manual_seed(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n = self.images.shape[0]
        return n // self.batch_size if self.train else -(-n // self.batch_size)

    def _epoch_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.train:
            return self.images, self.labels
        images = self.images
        if self.flip:
            images = batch_flip_lr(images, self.generator)
        if self.translate:
            images = batch_translate(images, self.translate, self.generator)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        order = torch.randperm(images.shape[0], device=images.device, generator=self.generator)
        return images[order], self.labels[order]

    def __iter__(self):
        images, labels = self._epoch_tensors()
        self.epoch += 1
        for i in range(len(self)):
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield images[sl], labels[sl]


__all__ = ["GpuBatchLoader", "batch_flip_lr", "batch_translate"]
