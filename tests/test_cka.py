"""Sample-space CKA against the feature-space formula, the unbiased HSIC against a brute-force
U-statistic, the debiased estimator on independent wide features, and minibatch accumulation."""
import itertools

import pytest
import torch

from nblib.correlation import MinibatchCKA, cka_matrix, cross_correlation, gram_linear, hsic, linear_cka


def feature_space_cka(a, b):
    # Kornblith et al.'s feature-space form: ||B^T A||_F^2 / (||A^T A||_F ||B^T B||_F), centred
    a = a.double() - a.double().mean(0)
    b = b.double() - b.double().mean(0)
    return ((b.t() @ a).square().sum() / ((a.t() @ a).norm() * (b.t() @ b).norm())).item()


def brute_force_unbiased_hsic(k, l):
    # U-statistic of E[k_ij l_ij] + E[k_ij] E[l_qr] - 2 E[k_ij l_iq] over distinct indices
    n = k.shape[0]
    pairs = list(itertools.permutations(range(n), 2))
    triples = list(itertools.permutations(range(n), 3))
    quads = list(itertools.permutations(range(n), 4))
    a = sum(k[i, j] * l[i, j] for i, j in pairs) / len(pairs)
    b = sum(k[i, j] * l[q, r] for i, j, q, r in quads) / len(quads)
    c = sum(k[i, j] * l[i, q] for i, j, q in triples) / len(triples)
    return a + b - 2 * c


def test_sample_space_equals_feature_space():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(300, 20, generator=g), torch.randn(300, 7, generator=g)
    b = b + a[:, :7]
    assert linear_cka(a, b) == pytest.approx(feature_space_cka(a, b), abs=1e-10)


def test_invariances_and_matrix():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 12, generator=g)
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=g))
    for debiased in (False, True):
        assert linear_cka(x, x @ q, debiased) == pytest.approx(1.0, abs=1e-9)
        assert linear_cka(x, 3.0 * x, debiased) == pytest.approx(1.0, abs=1e-9)
        m = cka_matrix({"a": x, "b": x @ q, "c": torch.randn(200, 3, generator=g)}, debiased=debiased)
        assert torch.allclose(m, m.t()) and torch.allclose(m.diagonal(), torch.ones(3, dtype=torch.float64))
        assert m[0, 1] == pytest.approx(1.0, abs=1e-9)


def test_unbiased_hsic_equals_brute_force_u_statistic():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(7, 3, generator=g), torch.randn(7, 4, generator=g)
    k, l = gram_linear(a), gram_linear(b)
    assert hsic(k, l, debiased=True).item() == pytest.approx(brute_force_unbiased_hsic(k, l).item(), rel=1e-9)


def test_debiased_is_near_zero_for_independent_wide_features():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(100, 5000, generator=g), torch.randn(100, 5000, generator=g)
    assert linear_cka(a, b) > 0.9                           # the biased estimator's artefact
    assert abs(linear_cka(a, b, debiased=True)) < 0.05


def test_minibatch_cka_accumulates():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(1200, 30, generator=g)
    outs = {"x": x, "y": torch.tanh(x @ torch.randn(30, 40, generator=g)), "z": torch.randn(1200, 10, generator=g)}
    one = MinibatchCKA()
    one.update(outs)
    assert torch.allclose(one.result(), cka_matrix(outs, debiased=True), atol=1e-12)
    acc = MinibatchCKA()
    for i in range(0, 1200, 200):
        acc.update({k: v[i:i + 200] for k, v in outs.items()})
    assert acc.batches == 6
    assert (acc.result() - cka_matrix(outs, debiased=True)).abs().max() < 0.05
    with pytest.raises(ValueError, match="layers changed"):
        acc.update({"x": x[:10]})


def test_constant_feature_correlation_is_nan_in_float32():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(500, 3, generator=g)
    x[:, 1] = 0.1                                           # constant, not exactly representable
    for dtype in (torch.float32, torch.float64):
        c = cross_correlation(x.to(dtype))
        assert c[1].isnan().all() and c[:, 1].isnan().all()
        assert c[0, 0] == pytest.approx(1.0, abs=1e-5) and not c[0, 2].isnan()


def test_nulls_destroy_structure_but_keep_marginals():
    from nblib.correlation import shuffle_features, shuffled_feature_correlation, shuffled_sample_cka
    g = torch.Generator().manual_seed(6)
    z = torch.randn(2000, 1, generator=g)
    x = z + 0.3 * torch.randn(2000, 40, generator=g)                 # strongly correlated features
    assert cross_correlation(x).abs().mean() > 0.8
    s = shuffle_features(x, torch.Generator().manual_seed(0))
    assert torch.equal(s.sort(0).values, x.sort(0).values)           # each column keeps its values
    null = shuffled_feature_correlation(x)
    assert null == pytest.approx((2 / (torch.pi * 2000)) ** 0.5, rel=0.15)   # E|r| of independent features
    assert linear_cka(x, x * 2) == pytest.approx(1.0)
    assert abs(shuffled_sample_cka(x, x, debiased=True)) < 0.02


def test_spread_per_input_matches_per_input_computation():
    from torch import nn

    from nblib.correlation import augment_views, augmentation_spread, get_intermediate_outputs, spread_per_input
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 5), nn.ReLU(), nn.Linear(5, 3))
    images = torch.rand(3, 1, 8, 8)
    ref = get_intermediate_outputs(model, torch.rand(50, 1, 8, 8), ["1", "3"])
    out = spread_per_input(model, images, ref, ["1", "3"], views=20, seed=4)
    assert out.shape == (3, 2) and (out > 0).all()
    outs = get_intermediate_outputs(model, augment_views(images[2], n=20, seed=6), ["3"])   # input 2 uses seed + 2
    assert out[2, 1].item() == pytest.approx(augmentation_spread(outs["3"], ref["3"]).nanmedian().item())
