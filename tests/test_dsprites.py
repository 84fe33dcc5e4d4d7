"""dSprites generator: factor grid, rendering, correlation control, videos."""
import math

import pytest
import torch

from nblib.data import load_dsprites, moving_sprites, render_dsprites, sample_factors
from nblib.data.dsprites import FACTOR_SIZES, N_IMAGES, factor_values, grid_factors


def test_factor_grid_matches_the_original():
    assert FACTOR_SIZES == (3, 6, 40, 32, 32) and N_IMAGES == 737_280
    g = grid_factors(0, 5)
    assert g.tolist()[1] == [0, 0, 0, 0, 1]  # last factor (pos_y) varies fastest
    last = grid_factors(N_IMAGES - 1)
    assert last.tolist() == [[2, 5, 39, 31, 31]]
    vals = factor_values(last)[0]
    assert vals.tolist() == pytest.approx([3.0, 1.0, 2 * math.pi, 1.0, 1.0])
    assert factor_values(grid_factors(0, 1))[0].tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.0])


def test_render_is_binary_deterministic_and_shape_dependent():
    idx = torch.tensor([[s, 5, 0, 16, 16] for s in range(3)])
    img = render_dsprites(idx)
    assert img.shape == (3, 1, 64, 64) and img.dtype == torch.uint8
    assert set(img.unique().tolist()) <= {0, 1}
    assert torch.equal(img, render_dsprites(idx))
    area = img.flatten(1).sum(1).float()
    assert area[0] > area[2] > area[1] > 0  # square > heart > 2:1 ellipse at equal scale
    # a square at 20 x 20 pixels for scale 1
    assert area[0].item() == pytest.approx(400, rel=0.1)


def test_scale_position_and_rotation_move_pixels_as_expected():
    small, big = render_dsprites(torch.tensor([[0, 0, 0, 16, 16], [0, 5, 0, 16, 16]])).flatten(1).sum(1)
    assert big.item() == pytest.approx(4 * small.item(), rel=0.15)  # area scales with scale^2
    left, right = render_dsprites(torch.tensor([[1, 3, 0, 0, 16], [1, 3, 0, 31, 16]]))
    cols = torch.arange(64).float()
    cx = lambda im: (im[0].float().sum(0) * cols).sum() / im.sum()  # noqa: E731
    assert cx(left) < 20 < 44 < cx(right)
    flat, turned = render_dsprites(torch.tensor([[1, 5, 0, 16, 16], [1, 5, 10, 16, 16]]))  # ~90 degrees
    assert flat[0].any(0).sum() > flat[0].any(1).sum()  # ellipse wider than tall
    assert turned[0].any(1).sum() > turned[0].any(0).sum()  # and taller than wide once turned


def test_correlation_hits_the_target_and_independent_is_near_zero():
    f = sample_factors(40_000, seed=0, correlate={("scale", "pos_x"): 0.2}).float()
    r = torch.corrcoef(torch.stack([f[:, 1], f[:, 3]]))[0, 1].item()
    assert r == pytest.approx(0.2, abs=0.03)
    r0 = torch.corrcoef(torch.stack([f[:, 0], f[:, 4]]))[0, 1].item()
    assert abs(r0) < 0.03
    counts = torch.bincount(f[:, 2].long(), minlength=40).float()
    assert counts.min() > 0.8 * counts.mean()  # marginals stay uniform
    with pytest.raises(ValueError, match="unknown factor"):
        sample_factors(10, correlate={("colour", "scale"): 0.2})
    with pytest.raises(ValueError, match="child twice"):
        sample_factors(10, correlate={("shape", "scale"): 0.2, ("pos_x", "scale"): 0.1})


def test_load_dsprites_sample():
    d = load_dsprites(100, seed=3)
    assert d.images.shape == (100, 1, 64, 64) and d.factors.shape == (100, 5) and d.values.shape == (100, 5)
    assert torch.equal(d.images, render_dsprites(d.factors))
    assert torch.equal(load_dsprites(100, seed=3).factors, d.factors)
    assert not torch.equal(load_dsprites(100, seed=4).factors, d.factors)
    assert "independent" in d.source


def test_moving_sprites_video():
    v = moving_sprites(4, 12, seed=1, max_speed=3.0)
    assert v.images.shape == (4, 12, 1, 64, 64) and v.factors.shape == (4, 12, 5)
    f = v.factors
    assert (f[:, :, :2] == f[:, :1, :2]).all()  # shape and scale constant over time
    assert f[..., 3:].min() >= 0 and f[..., 3:].max() <= 31  # bounces inside the grid
    steps = (f[:, 1:, 3:] - f[:, :-1, 3:]).abs()
    assert steps.max() <= 4 and steps.sum() > 0  # moves, by at most max_speed (+ rounding)
    assert torch.equal(v.images[2, 5], render_dsprites(f[2, 5][None])[0])
