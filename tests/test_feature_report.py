"""Feature report and slot diagnostics: known answers for every metric, verdicts against thresholds."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from nblib.inspect import (DEFAULT_THRESHOLDS, FeatureReport, Threshold, attention_shares, cell_accuracy,  # noqa: E402
                           channel_entropy, feature_report, masked_channel_entropy, masked_dead_channels,
                           masked_mean, masked_sparsity, plot_report, plot_slot_masks, slot_usage,
                           spatial_diversity)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def corner_mask(n=2, side=4, h=2, w=2):
    mask = torch.zeros(n, side, side, dtype=torch.bool)
    mask[:, :h, :w] = True
    return mask


def test_masked_sparsity_and_mean_count_only_valid_cells():
    x = torch.zeros(2, 3, 4, 4)
    x[:, :, 2:, 2:] = 5.0  # activity only outside the 2x2 corner
    x[0, 0, 0, 0] = 1.0  # one active value inside sample 0's corner (of 3 channels x 4 cells)
    mask = corner_mask()
    assert masked_sparsity(x, mask).tolist() == pytest.approx([11 / 12, 1.0])
    assert masked_mean(x, mask).tolist() == pytest.approx([1 / 12, 0.0])
    assert masked_sparsity(x).tolist() == pytest.approx([1 - 13 / 48, 1 - 12 / 48])  # no mask: every cell


def test_masked_entropy_equals_unmasked_on_the_crop():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 6, 6)
    mask = corner_mask(3, 6, 3, 4)
    assert torch.allclose(masked_channel_entropy(x), channel_entropy(x), atol=1e-5)
    assert torch.allclose(masked_channel_entropy(x, mask), channel_entropy(x[:, :, :3, :4].contiguous()), atol=1e-5)
    two_level = torch.zeros(1, 1, 4, 4)
    two_level[0, 0, 0, 1] = 1.0  # inside the 2x2 corner: values 0, 1, 0, 0 -> H(1/4, 3/4)
    two_level[0, 0, 3, 3] = 7.0  # outside: must not stretch the bins
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert masked_channel_entropy(two_level, corner_mask(1)).item() == pytest.approx(h)


def test_dead_channels_over_valid_cells_of_all_samples():
    x = torch.zeros(2, 3, 4, 4)
    x[:, 0, 3, 3] = 1.0  # active only outside the grid: dead
    x[1, 1, 0, 0] = -0.5  # active inside in one sample: alive
    x[:, 2] = 2.0
    assert masked_dead_channels(x, corner_mask()).tolist() == [True, False, False]
    assert masked_dead_channels(x).tolist() == [False, False, False]


def test_threshold_verdicts_follow_the_research_log():
    sp, ent = DEFAULT_THRESHOLDS["sparsity"], DEFAULT_THRESHOLDS["channel_entropy"]
    assert sp.verdict(0.605) == "critical"  # the log's baseline
    assert sp.verdict(0.45) == "high" and sp.verdict(0.30) == "ok" and sp.verdict(0.0) == "ok"
    assert ent.verdict(2.18) == "low" and ent.verdict(3.5) == "ok"
    assert DEFAULT_THRESHOLDS["spatial_diversity"].verdict(0.589) == "ok"  # "acceptable" in the log
    assert DEFAULT_THRESHOLDS["mean_activation"].verdict(0.359) == "ok"
    assert DEFAULT_THRESHOLDS["dead_fraction"].verdict(0.5) == "critical"
    assert Threshold((1, 2), critical_below=0.5).verdict(0.2) == "critical"
    assert sp.verdict(float("nan")) == "n/a"


def test_report_table_on_known_tensors():
    # layer "half": sample 0 has channels 0, 1 and 3 at zero, sample 1 only channel 3 (dead in both)
    half = torch.ones(2, 4, 2, 2)
    half[0, :2] = 0.0
    half[:, 3] = 0.0
    dense = torch.arange(1.0, 1 + 2 * 8 * 9).view(2, 8, 3, 3)
    report = feature_report({"half": half, "dense": dense})
    t = report.table
    assert list(t.index) == ["half", "dense"]
    assert t.loc["half", "sparsity"] == pytest.approx((0.75 + 0.25) / 2)
    assert t.loc["half", "sparsity_std"] == pytest.approx(0.25)  # std over the 2 samples
    assert t.loc["half", "dead_channels"] == 1 and t.loc["half", "channels"] == 4
    assert t.loc["half", "dead_fraction"] == 0.25 and t.loc["half", "dead_fraction_verdict"] == "high"
    assert t.loc["dense", "sparsity"] == 0 and t.loc["dense", "sparsity_verdict"] == "ok"
    assert t.loc["half", "sparsity_verdict"] == "high"  # 0.5: above the 0.40 target, not above critical 0.5
    assert t.loc["half", "mean_activation"] == pytest.approx((0.25 + 0.75) / 2)
    expect_div = spatial_diversity(dense).mean().item()
    assert t.loc["dense", "spatial_diversity"] == pytest.approx(expect_div, abs=1e-6)
    assert t.loc["dense", "channel_entropy"] == pytest.approx(channel_entropy(dense).mean().item(), abs=1e-5)
    # every verdict column is the threshold applied to the number next to it
    for key in ("sparsity", "spatial_diversity", "mean_activation", "channel_entropy", "dead_fraction"):
        for layer in t.index:
            assert t.loc[layer, f"{key}_verdict"] == DEFAULT_THRESHOLDS[key].verdict(t.loc[layer, key])
    assert report.verdicts.shape == (2, 5)


def test_report_mask_is_resized_for_smaller_layers_and_linear_layers_work():
    mask = torch.zeros(2, 8, 8, dtype=torch.bool)
    mask[:, :4, :4] = True
    small = torch.zeros(2, 3, 4, 4)
    small[:, :, :2, :2] = 1.0  # exactly the (downsampled) valid quarter is active
    report = feature_report({"small": small, "fc": torch.randn(2, 5)}, mask=mask)
    t = report.table
    assert t.loc["small", "sparsity"] == 0.0 and t.loc["small", "sparsity_verdict"] == "ok"
    assert math.isnan(t.loc["fc", "spatial_diversity"]) and t.loc["fc", "spatial_diversity_verdict"] == "n/a"
    with pytest.raises(ValueError, match="mask"):
        feature_report({"small": small}, mask=torch.ones(3, 8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="no activations"):
        feature_report({})


def test_a_sparse_relu_layer_is_flagged_critical():
    torch.manual_seed(0)
    pre = torch.randn(16, 8, 6, 6) - 0.35  # ~64% negative, like the log's encoder
    report = feature_report({"relu": torch.relu(pre), "leaky": nn.functional.leaky_relu(pre, 0.1)})
    t = report.table
    assert t.loc["relu", "sparsity"] > 0.5 and t.loc["relu", "sparsity_verdict"] == "critical"
    assert t.loc["leaky", "sparsity"] == 0.0 and t.loc["leaky", "sparsity_verdict"] == "ok"


def test_from_model_markdown_and_plot():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
    report = FeatureReport.from_model(model, torch.randn(5, 1, 4, 4), layers=["1", "3"], profile="arc_notes")
    assert list(report.table.index) == ["1", "3"] and report.table.loc["1", "samples"] == 5
    md = report.to_markdown()
    assert md.startswith("|") and "±" in md and "critical above 0.5" in md and "research log" in md
    assert "profile `arc_notes`" in md
    fig = plot_report(report)
    assert len(fig.axes) == 5
    relative = FeatureReport.from_model(model, torch.randn(5, 1, 4, 4), layers=["1", "3"])
    assert relative.profile == "relative_to_init" and "profile `relative_to_init`" in relative.to_markdown()
    assert len(plot_report(relative).axes) == 5


def test_attention_shares_and_slot_usage():
    attn = torch.zeros(2, 3, 2, 2)  # (N, K, H, W), sums to 1 over K
    attn[0, 0] = 1.0  # image 0: one slot holds everything
    attn[1, 0, 0] = 1.0  # image 1: slot 0 holds row 0, slots 1/2 share row 1, slot 2 the masked cell
    attn[1, 1, 1, 0] = 1.0
    attn[1, 2, 1, 1] = 1.0
    mask = torch.ones(2, 2, 2, dtype=torch.bool)
    mask[1, 1, 1] = False
    shares = attention_shares(attn, mask)
    assert shares[0].tolist() == [1.0, 0.0, 0.0]
    assert shares[1].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert slot_usage(attn, mask).tolist() == [1, 2]
    assert slot_usage(attn, mask, threshold=0.5).tolist() == [1, 1]
    assert slot_usage(attn).tolist() == [1, 3]  # without the mask the hidden cell counts
    with pytest.raises(ValueError, match="threshold"):
        slot_usage(attn, threshold=0)


def test_cell_accuracy_over_valid_cells():
    target = torch.tensor([[[1, 2], [3, 4]]])
    scores = torch.nn.functional.one_hot(torch.tensor([[[1, 2], [0, 0]]]), 10).permute(0, 3, 1, 2).float()
    assert cell_accuracy(scores, target).tolist() == [0.5]
    mask = torch.tensor([[[True, True], [False, False]]])
    assert cell_accuracy(scores, target, mask).tolist() == [1.0]
    with pytest.raises(ValueError, match="target"):
        cell_accuracy(scores, target[:, :1])


def test_plot_slot_masks():
    torch.manual_seed(0)
    attn = torch.softmax(torch.randn(3, 4, 5, 5), 1)
    colours = torch.randint(0, 10, (3, 5, 5))
    mask = torch.ones(3, 5, 5, dtype=torch.bool)
    mask[:, 3:] = False
    fig = plot_slot_masks(attn, samples=[0, 2], colours=colours, reconstruction=colours, mask=mask)
    assert len(fig.axes) == 2 * (2 + 4)
    assert fig.axes[0].images[0].get_array().shape[:2] == (3, 5)  # cropped to the grid
    with pytest.raises(IndexError, match="out of range"):
        plot_slot_masks(attn, samples=[5])
