"""Datasets as tensors, resolved from one data root (``$NBLIB_DATA``, default ``data/``).

Each loader returns tensors (optionally already on the GPU) and says where they came
from. Missing data raises :class:`DataNotFoundError` naming the command that fixes it;
``python -m nblib.data status`` lists what is available.
"""
from ..paths import data_root
from .arc import ARCGrids, load_arc
from .cifar10 import load_cifar10
from .common import DataNotFoundError, LabelledImages, select_classes
from .dsprites import DSprites, load_dsprites, moving_sprites, render as render_dsprites, sample_factors
from .loader import GpuBatchLoader, batch_flip_lr, batch_translate
from .mnist import load_mnist
from .normalisation import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    MNIST_MEAN,
    MNIST_STD,
    NORMALISATION,
    denormalise_images,
    normalise_images,
)

__all__ = [
    "ARCGrids",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DSprites",
    "DataNotFoundError",
    "GpuBatchLoader",
    "LabelledImages",
    "MNIST_MEAN",
    "MNIST_STD",
    "NORMALISATION",
    "batch_flip_lr",
    "batch_translate",
    "data_root",
    "denormalise_images",
    "load_arc",
    "load_cifar10",
    "load_dsprites",
    "load_mnist",
    "moving_sprites",
    "normalise_images",
    "render_dsprites",
    "sample_factors",
    "select_classes",
]
