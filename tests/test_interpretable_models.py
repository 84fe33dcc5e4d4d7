"""Notebook 05's models: one optimiser step each, shapes, backbones, switches; the fast loop."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nblib.data import LabelledImages
from nblib.layers import AugMax, GumbelConv2d, PositiveConv2d
from nblib.models import backbone, make_backbone, make_model, with_augmax
from nblib.layers import augmax_scores
from nblib.engine import train_airbench94
from nblib.models.airbench import make_airbench94_net
from nblib.engine import decay_groups, fit_fast, triangle_schedule
from nblib.engine.cifar import evaluate

CASES = [
    ("conjdisj", dict(), 120),
    ("conjdisj", dict(positive="all", bn_affine=False), 120),
    ("directional", dict(), 120),
    ("directional", dict(positive=True, bn_affine=False), 120),
    ("gumbel", dict(), 60),
    ("gumbel", dict(positive=True, gumbel_k=2), 60),
    ("directional", dict(augmax=True, augmax_angles=(0.0, 10.0)), 120),
]


@pytest.mark.parametrize("kind,kwargs,dim", CASES, ids=[f"{k}-{'-'.join(kw)}" for k, kw, _ in CASES])
def test_one_training_step(kind, kwargs, dim):
    torch.manual_seed(0)
    model = make_model(kind, n_classes=2, **kwargs)
    x, y = torch.randn(6, 3, 32, 32), torch.tensor([0, 1, 0, 1, 1, 0])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    out = model(x)
    assert out.shape == (6, 2) and torch.isfinite(out).all()
    F.cross_entropy(out, y).backward()
    opt.step()
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert any("conv1" in n for n in changed) and any("scale" in n for n in changed)
    feats = backbone(model.eval())(x)
    assert feats.shape == (6, dim) == (6, model.feature_dim)


def test_layer_names_and_switches_follow_the_log():
    m = make_model("directional", 2)
    assert list(dict(m.named_children())) == ["conv1", "mp1", "bn1", "act1", "conv2", "amp1", "flatten", "smpool", "scale"]
    assert m.conv1.kernel_size == (10, 10) and m.conv1.out_channels == 120 and m.bn1.affine
    c = make_model("conjdisj", 2)
    assert list(dict(c.named_children())) == ["conv1", "amp1", "flatten", "bn1", "mean", "smpool", "scale"]
    assert c.mean.groups == 24
    g = make_model("gumbel", 2, positive=True, bn_affine=False)
    assert isinstance(g.conv3, GumbelConv2d) and g.conv3.positive and not g.bn2.affine and g.bn1.affine
    assert not make_model("gumbel", 2, bn_affine=False).bn1.affine  # plain: bn1 is the last BatchNorm
    assert list(dict(g.named_children())) == ["conv1", "bn1", "act1", "conv3", "bn2", "amp1", "flatten",
                                              "smpool", "scale"]  # conv1 is conv + mp1 in one ConvMaxPool2d
    unfused = make_model("gumbel", 2, positive=True, fused_pool=False)
    assert list(dict(unfused.named_children()))[:2] == ["conv1", "mp1"] and type(unfused.conv1) is nn.Conv2d
    p = make_model("directional", 3, positive=True)
    assert isinstance(p.conv2, PositiveConv2d) and (p.conv2.weight >= 0).all() and isinstance(p.conv1, nn.Conv2d)
    assert p(torch.randn(2, 3, 32, 32)).shape == (2, 3) and p.feature_dim == 180
    a = make_model("gumbel", 10, augmax=True)
    assert isinstance(a.augmax, AugMax) and a.feature_dim == 300
    with pytest.raises(ValueError, match="positive='all'"):
        make_model("conjdisj", 2, positive=True)
    with pytest.raises(ValueError, match="unknown kind"):
        make_model("resnet", 2)


def test_make_backbone_maps_images_to_features():
    bb = make_backbone("gumbel", n_classes=3).eval()
    assert bb(torch.randn(4, 3, 32, 32)).shape == (4, 90) and bb.feature_dim == 90
    with pytest.raises(ValueError, match="head"):
        backbone(nn.Sequential(nn.Flatten(1), nn.Linear(3, 2)))


def _tiny_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 120, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
    images[labels == 1, 0] += 120  # class 1 is redder: learnable
    return LabelledImages(images, labels, "test pattern", ("a", "b"))


def test_fit_fast_learns_a_trivial_task_and_anneals_gumbel():
    torch.manual_seed(0)
    data = _tiny_data()
    model = make_model("gumbel", 2, width=8, units_per_class=4)
    res = fit_fast(model, data, data, epochs=4, batch_size=16, lr=1e-2, progress=False, eval_every_epoch=True,
                   gumbel_tau=(1.0, 0.2), gumbel_logit_scale=(1.0, 5.0))
    assert res.steps == 16 and len(res.train_loss) == 4 and len(res.test_accuracy_history) == 4
    assert res.test_accuracy > 0.9 and res.images_per_second > 0
    assert model.conv3.tau == pytest.approx(0.2) and model.conv3.logit_scale == pytest.approx(5.0)
    assert evaluate(model, data) == pytest.approx(res.test_accuracy)
    with pytest.raises(ValueError, match="batch_size"):
        fit_fast(make_model("directional", 2), data, epochs=1, batch_size=1000, progress=False)


def test_decay_groups_and_schedule():
    m = make_model("gumbel", 2, positive=True)
    decayed, kept, scalars = decay_groups(m, 0.1, lr=1e-3, scalar_lr_mult=10.0)
    ids = {id(p) for p in decayed["params"]}
    assert id(m.conv1.weight) in ids and id(m.conv3.logits) not in ids and id(m.conv3.weight_param) not in ids
    assert decayed["weight_decay"] == 0.1 and kept["weight_decay"] == 0.0 and scalars["weight_decay"] == 0.0
    assert {id(p) for p in scalars["params"]} == {id(m.smpool.log_temperature), id(m.scale.log_scale)}
    assert scalars["lr"] == pytest.approx(1e-2) and decayed["lr"] == pytest.approx(1e-3)
    assert sum(len(g["params"]) for g in (decayed, kept, scalars)) == len(list(m.parameters()))
    f = triangle_schedule(10, warmup=0.2)
    assert [round(f(s), 3) for s in (0, 1, 2, 6, 10)] == [0.0, 0.5, 1.0, 0.5, 0.0]


def test_airbench94_net_shapes_and_one_step():
    torch.manual_seed(0)
    net = make_airbench94_net(n_classes=2, dtype=torch.float32)
    assert net(torch.randn(3, 3, 32, 32)).shape == (3, 2)
    data = _tiny_data(32)
    res = train_airbench94(data, data, epochs=1, batch_size=16, device="cpu", dtype=torch.float32,
                           tta_level=0, progress=False)
    assert res.steps == 2 and 0.0 <= res.test_accuracy <= 1.0 and res.images_per_second > 0
    res2 = train_airbench94(data, data, epochs=2, batch_size=16, device="cpu", dtype=torch.float32,
                            tta_level=0, progress=False, eval_every_epoch=True)
    assert len(res2.test_accuracy_history) == 2 and res2.test_accuracy_history[-1] == res2.test_accuracy_no_tta
    assert not res2.net.training and res2.net(torch.randn(2, 3, 32, 32)).shape == (2, 2)


def test_with_augmax_shares_weights_and_dominates_the_plain_scores():
    torch.manual_seed(1)
    model = make_model("directional", 2).eval()
    wrapped = with_augmax(model, angles=(0.0, 15.0)).eval()
    assert wrapped.smpool is model.smpool and wrapped.augmax.module.conv1 is model.conv1
    x = torch.randn(3, 3, 32, 32)
    feats = wrapped.augmax(x)
    assert torch.allclose(feats, augmax_scores(backbone(model), x, (0.0, 15.0)), atol=1e-6)
    assert (feats >= backbone(model)(x) - 1e-6).all()  # the identity view is one of the views
    assert wrapped(x).shape == (3, 2) and wrapped.feature_dim == 120


def test_one_variable_switches_bn2_conv3_mix():
    signed_bn2 = make_model("directional", 2, bn2=True, bn_affine=False)
    assert isinstance(signed_bn2.conv2, nn.Conv2d) and not isinstance(signed_bn2.conv2, PositiveConv2d)
    assert not signed_bn2.bn2.affine and signed_bn2.bn1.affine            # bn_affine: the last BatchNorm
    pos_nobn2 = make_model("directional", 2, positive=True, bn2=False)
    assert isinstance(pos_nobn2.conv2, PositiveConv2d) and not hasattr(pos_nobn2, "bn2")
    conv = make_model("gumbel", 2, conv3="conv", mix=True)
    assert type(conv.conv3) is nn.Conv2d and conv.conv3.weight.shape == (60, 120, 3, 3)
    assert type(conv.mix) is nn.Conv2d and conv.mix.kernel_size == (1, 1)
    names = list(dict(conv.named_children()))
    assert names.index("mix") == names.index("conv3") + 1 and conv(torch.randn(2, 3, 32, 32)).shape == (2, 2)
    pos_mix = make_model("gumbel", 2, positive=True, mix=True)
    assert isinstance(pos_mix.mix, PositiveConv2d) and list(dict(pos_mix.named_children()))[4:6] == ["mix", "bn2"]
    with pytest.raises(ValueError, match="conv3"):
        make_model("gumbel", 2, conv3="dense")
    with pytest.raises(ValueError, match="conjdisj"):
        make_model("conjdisj", 2, bn2=True)


def test_fused_gumbel_first_layer_is_the_same_function():
    torch.manual_seed(3)
    fused = make_model("gumbel", 2, positive=True)
    torch.manual_seed(3)
    plain = make_model("gumbel", 2, positive=True, fused_pool=False)
    assert all(torch.equal(a, b) for a, b in zip(fused.state_dict().values(), plain.state_dict().values()))
    fused.eval(), plain.eval()
    x = torch.randn(5, 3, 32, 32, requires_grad=True)
    (gf,) = torch.autograd.grad(fused(x).sum(), x)
    (gp,) = torch.autograd.grad(plain(x).sum(), x)
    assert torch.allclose(fused(x), plain(x), atol=1e-6) and torch.allclose(gf, gp, atol=1e-6)
