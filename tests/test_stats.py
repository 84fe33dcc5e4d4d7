"""Known-answer tests for every activation statistic."""
import math

import pytest
import torch

from nblib.inspect.stats import (
    ChannelAccumulator,
    channel_entropy,
    channel_stats,
    dead_channels,
    layer_summary,
    sparsity,
    spatial_diversity,
    spatial_similarity,
    summarize,
    value_histogram,
)


def test_sparsity_counts_near_zero_values():
    x = torch.tensor([[0.0, 1e-7, -1e-7, 0.5], [2.0, -3.0, 0.0, 1e-3]])
    assert sparsity(x, eps=1e-6).item() == pytest.approx(4 / 8)
    assert sparsity(x, eps=1e-2).item() == pytest.approx(5 / 8)


def test_channel_stats_known_values():
    # 2 samples, 2 channels, 2 positions: channel 0 = [1, 3, 5, 7], channel 1 = all zero
    x = torch.zeros(2, 2, 2)
    x[0, 0] = torch.tensor([1.0, 3.0])
    x[1, 0] = torch.tensor([5.0, 7.0])
    cs = channel_stats(x)
    assert cs["mean"].tolist() == [4.0, 0.0]
    assert cs["std"][0].item() == pytest.approx(math.sqrt(5.0))  # population std of 1,3,5,7
    assert cs["max"].tolist() == [7.0, 0.0]
    assert cs["min"].tolist() == [1.0, 0.0]
    assert cs["sparsity"].tolist() == [0.0, 1.0]
    assert cs["dead"].tolist() == [False, True]


def test_dead_channels_needs_all_samples_inactive():
    x = torch.zeros(3, 4, 5, 5)
    x[2, 1, 4, 4] = 0.3  # channel 1 fires once, in the last sample only
    x[:, 3] = -1.0  # negative activity is activity too
    assert dead_channels(x).tolist() == [True, False, True, False]


def test_channel_entropy_uniform_constant_and_two_level():
    n_bins = 8
    uniform = torch.arange(n_bins, dtype=torch.float32).view(1, 1, n_bins)  # one value per bin
    assert channel_entropy(uniform, bins=n_bins).item() == pytest.approx(3.0)  # log2(8)
    constant = torch.zeros(1, 1, 16)  # a dead channel
    assert channel_entropy(constant, bins=n_bins).item() == pytest.approx(0.0)
    half = torch.tensor([0.0] * 8 + [1.0] * 8).view(1, 1, 16)  # two equally likely levels
    assert channel_entropy(half, bins=n_bins).item() == pytest.approx(1.0)
    quarter = torch.tensor([0.0] * 12 + [1.0] * 4).view(1, 1, 16)
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert channel_entropy(quarter, bins=n_bins).item() == pytest.approx(h)


def test_channel_entropy_shapes():
    assert channel_entropy(torch.randn(4, 3, 5, 5)).shape == (4, 3)
    assert channel_entropy(torch.randn(100, 7)).shape == (7,)  # linear layer: over samples
    assert channel_entropy(torch.randn(4, 3, 5, 5), bins=32).max() <= 5.0 + 1e-5


def test_spatial_diversity_known_cases():
    same = torch.ones(1, 4, 3, 3)  # every position has the same vector
    assert spatial_diversity(same).item() == pytest.approx(0.0, abs=1e-6)
    onehot = torch.eye(9).view(1, 9, 3, 3)  # 9 mutually orthogonal positions
    assert spatial_diversity(onehot).item() == pytest.approx(1.0)
    opposite = torch.tensor([1.0, -1.0]).view(1, 1, 1, 2)  # two antiparallel positions
    assert spatial_diversity(opposite).item() == pytest.approx(2.0)


def test_spatial_diversity_matches_explicit_matrix_and_ignores_zero_positions():
    torch.manual_seed(0)
    x = torch.randn(3, 8, 5, 4)
    x[1, :, 0, :] = 0  # a row of dead positions
    div = spatial_diversity(x)
    for i in range(3):
        v = x[i].flatten(1)
        keep = v.norm(dim=0) > 0
        u = torch.nn.functional.normalize(v[:, keep], dim=0)
        sim = u.t() @ u
        n = sim.shape[0]
        expected = 1 - (sim.sum() - sim.diagonal().sum()) / (n * (n - 1))
        assert div[i].item() == pytest.approx(expected.item(), abs=1e-5)


def test_spatial_diversity_mask_and_degenerate():
    x = torch.eye(4).view(1, 4, 2, 2)
    x[0, 0, 0, 0] = 0
    x[0, 1, 0, 0] = 1  # positions (0,0) and (0,1) now share a direction
    mask = torch.tensor([[[True, True], [False, False]]])
    assert spatial_diversity(x, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert spatial_diversity(torch.zeros(1, 3, 2, 2)).isnan().item()  # no direction anywhere


def test_spatial_similarity_matrix():
    x = torch.eye(4).view(4, 2, 2)
    sim = spatial_similarity(x)
    assert torch.allclose(sim, torch.eye(4))
    assert spatial_similarity(torch.randn(3, 64, 64), max_positions=512).shape[0] <= 512


def test_value_histogram_counts_everything():
    x = torch.tensor([0.0, 0.1, 0.9, 1.0])
    counts, edges = value_histogram(x, bins=2)
    assert counts.tolist() == [2.0, 2.0]
    assert edges.tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_accumulator_matches_one_shot_statistics_over_batches():
    torch.manual_seed(1)
    x = torch.relu(torch.randn(30, 6, 4, 4))
    x[:, 2] = 0  # channel 2 never fires
    x[17, 4] = 0
    acc = ChannelAccumulator()
    for chunk in x.split(7):
        acc.update(chunk)
    got, ref = acc.result(), channel_stats(x)
    for key in ("mean", "std", "min", "max", "sparsity"):
        assert torch.allclose(got[key], ref[key], atol=1e-5), key
    assert got["dead"].tolist() == ref["dead"].tolist() == [False, False, True, False, False, False]


def test_accumulator_errors():
    acc = ChannelAccumulator()
    with pytest.raises(ValueError, match="no batches"):
        acc.result()
    acc.update(torch.ones(2, 3))
    with pytest.raises(ValueError, match="channels"):
        acc.update(torch.ones(2, 4))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="empty"):
        sparsity_summary = layer_summary(torch.zeros(0, 3, 2, 2))  # noqa: F841
    with pytest.raises(ValueError, match="expected"):
        channel_stats(torch.ones(5))
    with pytest.raises(ValueError, match="expected"):
        spatial_diversity(torch.ones(4, 3))


def test_layer_summary_and_table():
    x = torch.zeros(2, 4, 3, 3)
    x[:, 0] = 1.0
    row = layer_summary(x)
    assert row["sparsity"] == pytest.approx(0.75)
    assert row["dead_channels"] == 3
    assert row["mean"] == pytest.approx(0.25)
    assert row["spatial_diversity"] == pytest.approx(0.0, abs=1e-6)
    table = summarize({"a": x, "fc": torch.randn(5, 3)})
    assert list(table.index) == ["a", "fc"]
    assert math.isnan(table.loc["fc", "spatial_diversity"])
