"""The notebook-03 MLP: shapes, named layers, a one-step training smoke test."""
import pytest
import torch
import torch.nn.functional as F

from nblib.models import MLP


def test_shapes_and_layer_names():
    m = MLP((784, 32, 16, 8, 10))
    assert m.layer_names == ["layer1", "layer2", "layer3", "layer4"]
    assert m(torch.randn(5, 1, 28, 28)).shape == (5, 10)
    assert isinstance(m.layer4, torch.nn.Linear)  # logits: no BatchNorm/ReLU on the last layer
    with pytest.raises(ValueError):
        MLP((784,))


def test_one_training_step_lowers_the_loss_on_its_batch():
    torch.manual_seed(0)
    m = MLP((20, 16, 8, 4, 3))
    x, y = torch.randn(32, 20), torch.randint(0, 3, (32,))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    before = F.cross_entropy(m(x), y)
    before.backward()
    opt.step()
    assert F.cross_entropy(m(x), y) < before
