"""SoftMaxPool against its reference limits: max pooling (T -> 0) and the mean (T -> infinity)."""
import pytest
import torch

from nblib.layers import SoftMaxPool, softmax_pool


def test_limits_are_max_and_mean():
    torch.manual_seed(0)
    x = torch.randn(5, 3 * 7)
    groups = x.view(5, 3, 7)
    assert torch.allclose(softmax_pool(x, 3, 1e-4), groups.amax(-1), atol=1e-5)
    assert torch.allclose(softmax_pool(x, 3, 1e5), groups.mean(-1), atol=1e-4)
    mid = softmax_pool(x, 3, 1.0)
    assert (mid <= groups.amax(-1) + 1e-6).all() and (mid >= groups.mean(-1) - 1e-6).all()


def test_module_shapes_gradients_and_learnable_temperature():
    pool = SoftMaxPool(groups=2, temperature=0.5)
    x = torch.randn(4, 10, requires_grad=True)
    out = pool(x)
    assert out.shape == (4, 2)
    out.sum().backward()
    assert (x.grad != 0).all()  # every variant receives gradient (unlike hard max)
    assert pool.log_temperature.grad is not None and pool.temperature.item() == pytest.approx(0.5)
    fixed = SoftMaxPool(2, 0.5, learnable=False)
    assert not list(fixed.parameters()) and "log_temperature" in dict(fixed.named_buffers())


def test_bad_input():
    with pytest.raises(ValueError, match="groups"):
        softmax_pool(torch.randn(2, 7), 3, 1.0)
    with pytest.raises(ValueError, match="positive"):
        SoftMaxPool(2, temperature=0.0)
