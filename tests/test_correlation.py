"""Known answers for layer correlations, CKA, the JSON history and augmentation spread."""
import json

import numpy as np
import pytest
import torch

import nblib.atomic
from torch import nn

from nblib.correlation import (
    JsonHistory,
    augment_views,
    augmentation_spread,
    cka_matrix,
    correlation_summary,
    cross_correlation,
    feature_order,
    get_intermediate_outputs,
    layerwise_cross_correlation,
    linear_cka,
    mean_abs_correlation,
    sample_correlation,
)


def test_identical_layers_correlate_one_on_the_diagonal():
    torch.manual_seed(0)
    x = torch.randn(500, 20)
    c = cross_correlation(x, x.clone())
    assert torch.allclose(c.diagonal(), torch.ones(20), atol=1e-5)
    assert torch.allclose(c, c.t(), atol=1e-6)


def test_independent_noise_correlates_near_zero():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(10_000, 30, generator=g), torch.randn(10_000, 40, generator=g)
    c = cross_correlation(a, b)
    assert c.abs().max() < 0.05  # |r| ~ 1/sqrt(N) = 0.01
    assert mean_abs_correlation(c) < 0.015


def test_matches_numpy_corrcoef_and_marks_constant_features():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(300, 5, generator=g)
    b = torch.cat([a[:, :2] * -3 + 1, torch.randn(300, 2, generator=g), torch.zeros(300, 1)], 1)  # last: dead
    ours = cross_correlation(a, b).numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.corrcoef(a.numpy().T, b.numpy().T)[:5, 5:]
    assert np.allclose(ours, ref, atol=1e-5, equal_nan=True)
    assert np.isnan(ours[:, 4]).all() and ours[0, 0] == pytest.approx(-1.0)


def test_sample_correlation_and_same_layer_mean_skips_diagonal():
    x = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 2.0, 1.0]])
    s = sample_correlation(x)
    assert s[0, 1].item() == pytest.approx(1.0) and s[0, 2].item() == pytest.approx(-1.0)
    assert mean_abs_correlation(torch.eye(3), same_layer=True) == 0.0


def test_layerwise_pairs_and_summary():
    torch.manual_seed(0)
    outs = {"l1": torch.randn(100, 4), "l2": torch.randn(100, 3), "l3": torch.randn(100, 2)}
    corrs = layerwise_cross_correlation(outs)
    assert list(corrs) == [("l1", "l1"), ("l1", "l2"), ("l1", "l3"), ("l2", "l2"), ("l2", "l3"), ("l3", "l3")]
    assert corrs[("l1", "l2")].shape == (4, 3)
    assert torch.allclose(corrs[("l2", "l3")], cross_correlation(outs["l2"], outs["l3"]), atol=1e-6)
    summary = correlation_summary(corrs)
    assert set(summary) == {"l1|l1", "l1|l2", "l1|l3", "l2|l2", "l2|l3", "l3|l3"}
    json.dumps(summary)


def test_cka_invariances():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(400, 12, generator=g)
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=g))  # orthogonal
    assert linear_cka(x, x @ q) == pytest.approx(1.0, abs=1e-6)
    assert linear_cka(x, 7.5 * x) == pytest.approx(1.0, abs=1e-6)
    assert linear_cka(x, torch.randn(400, 12, generator=g)) < 0.15
    anisotropic = x * torch.linspace(0.1, 5, 12)  # non-isotropic scaling changes CKA
    assert linear_cka(x, anisotropic) < 0.99
    m = cka_matrix({"a": x, "b": x @ q, "c": torch.randn(400, 3, generator=g)})
    assert m.shape == (3, 3) and torch.allclose(m, m.t()) and m[0, 1] == pytest.approx(1.0, abs=1e-6)


def test_get_intermediate_outputs_flattens_in_order():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    outs = get_intermediate_outputs(model, torch.randn(5, 1, 6, 6), ["2", "0"])
    assert list(outs) == ["2", "0"] and outs["0"].shape == (5, 32) and outs["2"].shape == (5, 3)


def test_json_history_survives_an_interrupted_write(tmp_path, monkeypatch):
    path = tmp_path / "corr.json"
    h = JsonHistory(path, meta={"model": "mlp"})
    h.append(0, {"l1|l2": 0.5})
    h.append(1, {"l1|l2": 0.4})

    def crash(fd):  # dies after the new text is written, before it is on disk and renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(nblib.atomic.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        h.append(2, {"l1|l2": 0.3})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corr.json"], "no temporary file left behind"
    back = JsonHistory.load(path)  # still the last complete state
    assert [r["epoch"] for r in back.records] == [0, 1] and back.meta == {"model": "mlp"}
    back.append(2, {"l1|l2": 0.3})  # and a resumed run continues it
    assert list(JsonHistory.load(path).frame().index) == [0, 1, 2]
    with pytest.raises(FileNotFoundError):
        JsonHistory.load(tmp_path / "none.json")


def test_augment_views_are_reproducible_and_varied():
    img = torch.zeros(1, 28, 28)
    img[0, 8:20, 12:16] = 1.0
    a, b = augment_views(img, n=32, seed=5), augment_views(img, n=32, seed=5)
    assert a.shape == (32, 1, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, augment_views(img, n=32, seed=6))
    assert (a[0] - a[1]).abs().sum() > 0


def test_augmentation_spread_known_cases():
    ref = torch.randn(1000, 3) * torch.tensor([1.0, 2.0, 0.0])  # feature 2 constant
    views = torch.stack([torch.zeros(50), torch.randn(50) * 2.0, torch.zeros(50)], 1)
    s = augmentation_spread(views, ref)
    assert s[0].item() == 0.0 and s[1].item() == pytest.approx(1.0, abs=0.25) and s[2].isnan()


def test_feature_order_groups_correlated_features_and_puts_dead_last():
    g = torch.Generator().manual_seed(4)
    base = torch.randn(500, 2, generator=g)
    # features 0, 2, 4 follow base[:, 0]; 1, 3 follow base[:, 1]; 5 is constant
    cols = [base[:, i % 2] + 0.1 * torch.randn(500, generator=g) for i in range(5)] + [torch.ones(500)]
    corr = cross_correlation(torch.stack(cols, 1))
    perm = feature_order(corr).tolist()
    assert perm[-1] == 5
    groups = [i % 2 for i in perm[:5]]
    assert groups in ([0, 0, 0, 1, 1], [1, 1, 0, 0, 0])  # each group contiguous
    assert sorted(perm) == list(range(6))
