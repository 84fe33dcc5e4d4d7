"""Layers of notebook 05 against references: Scale/Mean known answers, GumbelConv2d against a
masked Conv2d and the Gumbel-max sampling law, PositiveConv2d against F.conv2d, augmentation
max-matching against a loop over kornia views."""
import math

import pytest
import torch
import torch.nn.functional as F
from kornia.geometry.transform import rotate
from torch import nn

from nblib.layers import (
    AugMax,
    GumbelConv2d,
    Mean,
    PositiveConv2d,
    Scale,
    anneal_gumbel,
    augment_views,
    augmax_scores,
    gumbel_k_hot,
    k_hot,
    positive_weight,
    raw_from_positive,
    relaxed_k_hot,
    view_specs,
)


# ----------------------------------------------------------------------------- Scale, Mean
def test_scale_known_answer_and_positivity():
    s = Scale(init=2.5)
    x = torch.tensor([[1.0, -2.0], [0.0, 4.0]])
    assert torch.allclose(s(x), 2.5 * x)
    s(x).sum().backward()
    # d/d log_s of sum(exp(log_s) * x) = exp(log_s) * sum(x)
    assert s.log_scale.grad.item() == pytest.approx(2.5 * 3.0)
    fixed = Scale(0.5, learnable=False)
    assert not list(fixed.parameters()) and torch.allclose(fixed(x), 0.5 * x)
    with pytest.raises(ValueError, match="positive"):
        Scale(0.0)


def test_mean_over_consecutive_groups():
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.0, 0.0, 3.0, 6.0, 6.0, 6.0]])
    assert torch.equal(Mean(2)(x), torch.tensor([[2.0, 5.0], [1.0, 6.0]]))
    assert torch.equal(Mean(3)(x), torch.tensor([[1.5, 3.5, 5.5], [0.0, 4.5, 6.0]]))
    assert Mean(24)(torch.randn(7, 120)).shape == (7, 24)  # the log's conjunction layer
    with pytest.raises(ValueError, match="groups"):
        Mean(4)(torch.randn(2, 6))


# ----------------------------------------------------------------------------- Gumbel top-k
def test_k_hot_and_relaxation_limits():
    torch.manual_seed(0)
    s = torch.randn(5, 7, 3)
    for k in (1, 2, 3):
        hot = k_hot(s, k, dim=1)
        assert torch.equal(hot.sum(1), torch.full((5, 3), float(k)))
        assert torch.equal(hot, k_hot(s, k, dim=1) * hot)  # only 0/1
        soft = relaxed_k_hot(s, k, tau=1.0, dim=1)
        assert torch.allclose(soft.sum(1), torch.full((5, 3), float(k)), atol=1e-4)
        assert torch.allclose(relaxed_k_hot(s, k, tau=1e-4, dim=1), hot, atol=1e-3)  # tau -> 0: k-hot
    assert torch.allclose(relaxed_k_hot(s, 1, tau=0.7, dim=1), torch.softmax(s / 0.7, dim=1))


def test_hard_gumbel_is_exactly_k_hot_with_straight_through_gradient():
    torch.manual_seed(1)
    logits = torch.randn(4, 6, requires_grad=True)
    for k in (1, 2):
        y = gumbel_k_hot(logits, k=k, tau=0.5, hard=True, dim=1)
        assert set(y.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(y.sum(1), torch.full((4,), float(k)))
        (y * torch.arange(6.0)).sum().backward()
        assert logits.grad is not None and logits.grad.abs().sum() > 0
        logits.grad = None
    with pytest.raises(ValueError, match="k must be"):
        gumbel_k_hot(logits, k=7, dim=1)


def test_gumbel_max_samples_follow_softmax_probabilities():
    torch.manual_seed(2)
    logits = torch.tensor([2.0, 0.5, 0.0, -1.0])
    draws = gumbel_k_hot(logits.expand(40_000, 4), k=1, hard=True, dim=1)  # (40000, 4)
    assert torch.allclose(draws.mean(0), torch.softmax(logits, 0), atol=0.01)


# ----------------------------------------------------------------------------- GumbelConv2d
@pytest.mark.parametrize("k,positive", [(1, False), (2, False), (1, True)])
def test_gumbel_conv_eval_equals_conv2d_with_masked_weight(k, positive):
    torch.manual_seed(3)
    layer = GumbelConv2d(6, 4, 3, stride=2, padding=1, k=k, positive=positive).eval()
    x = torch.randn(2, 6, 9, 9)
    mask = torch.zeros(4, 6, 3, 3).scatter_(1, layer.logits.topk(k, dim=1).indices, 1.0)
    ref = nn.Conv2d(6, 4, 3, stride=2, padding=1)
    with torch.no_grad():
        ref.weight.copy_(layer.weight * mask)
        ref.bias.copy_(layer.bias)
    assert torch.allclose(layer(x), ref(x), atol=1e-5)
    assert torch.equal(layer(x), layer(x))  # deterministic in eval mode
    assert torch.equal(layer.selected_channels(), layer.logits.topk(k, dim=1).indices)
    if positive:
        assert (layer.weight >= 0).all()


def test_gumbel_conv_training_uses_its_sampled_one_hot_mask():
    torch.manual_seed(4)
    layer = GumbelConv2d(5, 3, 3, hard=True).train()
    x = torch.randn(2, 5, 7, 7)
    torch.manual_seed(10)
    mask = layer.selection()
    torch.manual_seed(10)
    out = layer(x)
    assert set(mask.unique().tolist()) <= {0.0, 1.0} and torch.equal(mask.sum(1), torch.ones(3, 3, 3))
    assert torch.allclose(out, F.conv2d(x, layer.weight * mask, layer.bias), atol=1e-5)
    out.square().mean().backward()
    assert layer.logits.grad.abs().sum() > 0 and layer.weight_param.grad.abs().sum() > 0
    # more parameters than the Conv2d it restricts (weights + one logit per channel and position)
    assert sum(p.numel() for p in layer.parameters()) > sum(p.numel() for p in nn.Conv2d(5, 3, 3).parameters())


def test_gumbel_conv_top_k_mask_and_soft_mode():
    torch.manual_seed(5)
    layer = GumbelConv2d(8, 2, 3, k=3, hard=True).train()
    assert torch.equal(layer.selection().sum(1), torch.full((2, 3, 3), 3.0))
    soft = GumbelConv2d(8, 2, 3, k=3, hard=False).train()
    m = soft.selection()
    assert torch.allclose(m.sum(1), torch.full((2, 3, 3), 3.0), atol=1e-4)
    assert ((m > 0) & (m < 1)).any()  # relaxed, not k-hot


def test_annealing_moves_towards_one_hot():
    torch.manual_seed(6)
    model = nn.Sequential(GumbelConv2d(10, 4, 3), nn.ReLU(), GumbelConv2d(4, 2, 1))
    assert anneal_gumbel(model, 0.0) == pytest.approx((1.0, 1.0))
    c0 = model[0].confidence().item()
    tau, scale = anneal_gumbel(model, 1.0, tau=(1.0, 0.1), logit_scale=(1.0, 50.0))
    assert (tau, scale) == pytest.approx((0.1, 50.0))
    assert all(m.tau == pytest.approx(0.1) and m.logit_scale == pytest.approx(50.0) for m in (model[0], model[2]))
    assert model[0].confidence().item() > c0 and model[0].confidence().item() > 0.75
    mid = anneal_gumbel(model, 0.5, tau=(1.0, 0.01), logit_scale=(1.0, 100.0))
    assert mid == pytest.approx((0.1, 10.0))  # geometric interpolation


# ----------------------------------------------------------------------------- PositiveConv2d
@pytest.mark.parametrize("reparam", ["softplus", "square", "exp"])
def test_positive_conv_weights_nonnegative_and_equal_to_f_conv2d(reparam):
    torch.manual_seed(7)
    layer = PositiveConv2d(3, 5, 4, stride=2, padding=1, reparam=reparam)
    with torch.no_grad():
        layer.raw_weight.normal_(0, 2)  # many raw values far below zero
    assert (layer.weight >= 0).all()
    x = torch.randn(2, 3, 11, 11)
    assert torch.allclose(layer(x), F.conv2d(x, layer.weight, layer.bias, 2, 1), atol=1e-5)
    layer(x).sum().backward()
    assert layer.raw_weight.grad.abs().sum() > 0


def test_positive_reparameterisation_inverse_and_init_scale():
    w = torch.tensor([1e-3, 0.05, 0.7, 3.0, 25.0])
    for reparam in ("softplus", "square", "exp"):
        assert torch.allclose(positive_weight(raw_from_positive(w, reparam), reparam), w, rtol=1e-4)
    torch.manual_seed(8)
    bound = 1 / math.sqrt(120 * 16)  # nn.Conv2d's default init bound
    for reparam in ("square", "softplus"):
        layer = PositiveConv2d(120, 60, 4, reparam=reparam)
        assert layer.weight.max().item() <= bound * 1.001
        assert layer.weight.mean().item() == pytest.approx(bound / 2, rel=0.05)  # |uniform(-b, b)|
    with pytest.raises(ValueError, match="reparam"):
        PositiveConv2d(3, 4, 3, reparam="relu")


def test_positive_conv_with_bn_without_affine_is_monotone():
    torch.manual_seed(9)
    layer = PositiveConv2d(3, 4, 3, batch_norm=True, bn_affine=False)
    assert not layer.norm.affine
    layer.train()
    layer(torch.randn(16, 3, 8, 8))  # running statistics
    layer.eval()
    x = torch.randn(4, 3, 8, 8)
    more = x + torch.rand_like(x)  # elementwise larger input
    assert (layer(more) >= layer(x) - 1e-6).all()


# ----------------------------------------------------------------------------- augmentation max
def test_views_identity_and_flip_are_exact():
    torch.manual_seed(11)
    x = torch.randn(3, 3, 16, 16)
    views = augment_views(x, angles=(0.0, 15.0), flip=True).view(4, 3, 3, 16, 16)
    assert view_specs((0.0, 15.0), True) == [(0.0, False), (15.0, False), (0.0, True), (15.0, True)]
    assert torch.equal(views[0], x) and torch.equal(views[2], x.flip(-1))
    assert torch.allclose(views[1], rotate(x, torch.full((3,), 15.0), padding_mode="reflection"))
    assert torch.allclose(views[3], rotate(x.flip(-1), torch.full((3,), 15.0), padding_mode="reflection"))


def test_augmax_equals_loop_and_dominates_every_view():
    torch.manual_seed(12)
    net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.AdaptiveMaxPool2d(1), nn.Flatten(1)).eval()
    x = torch.randn(4, 3, 20, 20)
    angles = (0.0, -15.0, 15.0)
    scores = augmax_scores(net, x, angles, flip=True)  # (4, 6)
    per_view = []
    for angle, flipped in view_specs(angles, True):  # the reference: one view at a time
        v = x.flip(-1) if flipped else x
        if angle:
            v = rotate(v, torch.full((4,), angle), padding_mode="reflection")
        per_view.append(net(v))
    per_view = torch.stack(per_view)  # (6, 4, 6)
    assert torch.allclose(scores, per_view.amax(0), atol=1e-5)
    assert (scores >= per_view - 1e-6).all()
    module = AugMax(net, angles)
    assert module.n_views == 6 and torch.allclose(module(x), scores, atol=1e-6)
    with pytest.raises(ValueError, match="N, C, H, W"):
        augment_views(torch.randn(3, 16, 16))


# ----------------------------------------------------------------------------- ConvMaxPool2d
def test_pool_windows_known_answer_and_errors():
    from nblib.layers import pool_windows
    assert pool_windows(23, 5, 10, 2) == [(0, 3), (8, 13), (18, 23)]   # the GumbelConv model: 225 of 529 outputs
    assert pool_windows(12, 3, 3, 0) == [(0, 3), (3, 6), (6, 9), (9, 12)]
    with pytest.raises(ValueError, match="does not fit"):
        pool_windows(2, 5, 1, 0)


@pytest.mark.parametrize("k,pool,size", [(10, (5, 10, 2), (32, 32)), (3, (3, 2, 1), (11, 9)), (4, (2, 2, 0), (9, 12))])
def test_conv_max_pool_equals_conv_then_max_pool(k, pool, size):
    from nblib.layers import ConvMaxPool2d
    torch.manual_seed(0)
    layer = ConvMaxPool2d(3, 6, k, pool_kernel=pool[0], pool_stride=pool[1], pool_padding=pool[2])
    assert isinstance(layer, nn.Conv2d)
    x = torch.randn(2, 3, *size, requires_grad=True)
    ref = F.max_pool2d(F.conv2d(x, layer.weight, layer.bias), pool[0], pool[1], pool[2])
    out = layer(x)
    assert out.shape == ref.shape and torch.allclose(out, ref, atol=1e-6)
    g = torch.randn_like(out)
    got = torch.autograd.grad((out * g).sum(), (x, layer.weight))
    want = torch.autograd.grad((ref * g).sum(), (x, layer.weight))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, want))
    with pytest.raises(ValueError, match="at most half"):
        ConvMaxPool2d(3, 6, k, pool_kernel=2, pool_stride=2, pool_padding=2)
