"""One normalisation per dataset (nblib.data.normalisation): bit-identical to the three copies it
replaced (GpuBatchLoader, airbench, interpret.cifar_normalize), its inverse, and the old import path."""
import pytest
import torch

from nblib.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    MNIST_MEAN,
    MNIST_STD,
    NORMALISATION,
    GpuBatchLoader,
    LabelledImages,
    denormalise_images,
    normalise_images,
)
from nblib.inspect.inputs import normalise
from nblib.interpret import cifar_denormalize, cifar_normalize


def _uint8(n=6, c=3, seed=0):
    return torch.randint(0, 256, (n, c, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def _former_loader(images, mean, std, dtype):  # GpuBatchLoader before issue #14
    images = images.to(dtype).div_(255.0) if images.dtype == torch.uint8 else images.to(dtype)
    c = images.shape[1]
    return (images - torch.tensor(mean, dtype=dtype).view(1, c, 1, 1)) / torch.tensor(std, dtype=dtype).view(1, c, 1, 1)


def _former_float32(images):  # airbench._normalise (before its final cast) and cifar_normalize before issue #14
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    return (x - torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)) / torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_same_bits_as_the_loader_copy(dtype):
    images = _uint8()
    got = normalise_images(images, CIFAR10_MEAN, CIFAR10_STD, dtype=dtype)
    assert got.dtype == dtype and torch.equal(got, _former_loader(images, CIFAR10_MEAN, CIFAR10_STD, dtype))
    loader = GpuBatchLoader(LabelledImages(images, torch.zeros(6, dtype=torch.long), "t"), 6, train=False,
                            mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype=dtype)
    assert torch.equal(loader.images, got)
    floats = images.double() / 255
    assert torch.equal(normalise_images(floats, CIFAR10_MEAN, CIFAR10_STD, dtype=dtype),
                       _former_loader(floats, CIFAR10_MEAN, CIFAR10_STD, dtype))


def test_same_bits_as_the_float32_copies_and_the_inverse():
    images = _uint8(seed=1)
    for x in (images, images.double() / 255, images.float() / 255):
        assert torch.equal(cifar_normalize(x), _former_float32(x))
        assert torch.equal(normalise_images(x, CIFAR10_MEAN, CIFAR10_STD, dtype=torch.float32), _former_float32(x))
    x = cifar_normalize(images)
    assert torch.allclose(denormalise_images(x, CIFAR10_MEAN, CIFAR10_STD), images / 255, atol=1e-6)
    assert torch.equal(cifar_denormalize(x), denormalise_images(x, CIFAR10_MEAN, CIFAR10_STD).clamp(0, 1))


def test_the_command_line_normalise_and_the_mnist_statistics():
    x = torch.rand(2, 4, 1, 5, 5, dtype=torch.float64)  # sequences: the channel dim is -3
    assert torch.equal(normalise(x, MNIST_MEAN, MNIST_STD), (x - 0.1307) / 0.3081)
    assert normalise(x, None, None) is x
    assert torch.equal(normalise(x, None, (2.0,)), x / 2)
    assert NORMALISATION["mnist"] == ((0.1307,), (0.3081,)) and NORMALISATION["cifar10"] == (CIFAR10_MEAN, CIFAR10_STD)
    digits = _uint8(c=1)
    assert torch.allclose(normalise_images(digits, *NORMALISATION["mnist"]), (digits / 255 - 0.1307) / 0.3081)


def test_old_loader_path_warns():
    import nblib.data.loader

    with pytest.warns(DeprecationWarning, match="normalisation"):
        assert nblib.data.loader.CIFAR10_MEAN is CIFAR10_MEAN
