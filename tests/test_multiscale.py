"""Notebook 07's multi-scale / ensembled SoftMaxPool models: shapes, the class-by-class merge
(checked against the branches run one by one), sharing of conv1, positivity and a training step."""
import pytest
import torch
import torch.nn.functional as F

from nblib.layers import PositiveConv2d
from nblib.models import backbone, make_model
from nblib.models.multiscale import BRANCHES, ClassMerge, make_multiscale_model, representation_layers


@pytest.mark.parametrize("branches,shared", [(("global",), True), (("global", "window"), True),
                                              (("global", "window", "local"), True), (("global", "global"), False)])
def test_shapes_and_one_training_step(branches, shared):
    torch.manual_seed(0)
    m = make_multiscale_model(4, branches, width=12, units_per_class=6, shared_conv1=shared)
    x, y = torch.randn(5, 3, 32, 32), torch.tensor([0, 1, 2, 3, 0])
    out = m(x)
    assert out.shape == (5, 4) and torch.isfinite(out).all()
    assert backbone(m.eval())(x).shape == (5, 24) == (5, m.feature_dim)
    m.train()
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    F.cross_entropy(m(x), y).backward()
    opt.step()
    changed = {n for n, p in m.named_parameters() if not torch.equal(p, before[n])}
    assert any("conv1" in n for n in changed) and all(any(f"branches.{i}.conv2" in n for n in changed)
                                                        for i in range(len(branches)))
    assert ("conv1" in dict(m.named_children())) == shared


def test_merge_puts_each_class_block_of_every_branch_together():
    # two "branches" that output known numbers: class c of branch b is 100*b + 10*c + unit
    class Const(torch.nn.Module):
        def __init__(self, b, units):
            super().__init__()
            self.b, self.units = b, units

        def forward(self, x):
            v = torch.tensor([100 * self.b + 10 * c + u for c in range(3) for u in range(self.units)], dtype=torch.float)
            return v.expand(x.shape[0], -1)

    merged = ClassMerge([Const(0, 2), Const(1, 1)], 3)(torch.zeros(2, 1))
    assert merged[0].tolist() == [0, 1, 100, 10, 11, 110, 20, 21, 120]


def test_single_global_branch_is_the_directional_model():
    # the same layers in the same order: copying the weights gives the same logits
    torch.manual_seed(0)
    ref = make_model("directional", 3, positive=True).eval()
    m = make_multiscale_model(3, ("global",), units_per_class=60, positive=True).eval()
    sd = {k.replace("merge.branches.0.", ""): v for k, v in m.state_dict().items()}
    assert set(sd) == set(ref.state_dict())
    m.load_state_dict({k: ref.state_dict()[k.replace("merge.branches.0.", "")] for k in m.state_dict()})
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(m(x), ref(x), atol=1e-5)


def test_switches_and_errors():
    m = make_multiscale_model(10, ("global", "window"), positive=True)
    assert all(isinstance(b.conv2, PositiveConv2d) and hasattr(b, "bn2") for b in m.merge.branches)
    assert not isinstance(m.conv1, PositiveConv2d)
    signed = make_multiscale_model(10, ("global", "window"), positive=False)
    assert not any(hasattr(b, "bn2") for b in signed.merge.branches)
    assert representation_layers(signed) == ["merge.branches.0.conv2", "merge.branches.1.conv2", "smpool", "scale"]
    assert representation_layers(make_model("directional", 2, positive=True)) == ["conv2", "bn2", "smpool", "scale"]
    assert set(BRANCHES) == {"global", "window", "local"}
    with pytest.raises(ValueError):
        make_multiscale_model(10, ("global", "nope"))
    with pytest.raises(ValueError):
        make_multiscale_model(10, ("global", "window", "local"), units_per_class=20)
