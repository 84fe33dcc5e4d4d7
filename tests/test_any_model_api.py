"""Issue 13 in the API: checkpoints from other tools, the user's inputs, hooks on models nobody
here wrote (aliases, sequences, ViT / attention / LSTM), statistics in every float dtype, and
feature-report verdicts relative to initialisation."""
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from nblib.checkpoints import CheckpointError, load_weights
from nblib.cli import InputError
from nblib.inspect import (ARC_NOTES, FeatureReport, Inspector, channel_entropy, count_hooks, feature_report,
                           layer_summary, reinitialised_copy, resolve_names, run_with_cache)
from nblib.inspect.inputs import load_input


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


# -- checkpoints -----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["bare", "model", "state_dict", "model_state_dict", "net", "lightning",
                                    "module.", "_orig_mod.", "safetensors"])
def test_checkpoint_layouts_load_the_same_weights(layout, tmp_path):
    source, target = small_cnn(0), small_cnn(1)
    state = source.state_dict()
    path = tmp_path / "ck.pt"
    if layout == "bare":
        torch.save(state, path)
    elif layout == "lightning":
        torch.save({"state_dict": {f"model.{k}": v for k, v in state.items()}, "epoch": 3,
                    "pytorch-lightning_version": "2.4.0", "optimizer_states": []}, path)
    elif layout in ("module.", "_orig_mod."):
        torch.save({f"{layout}{k}": v for k, v in state.items()}, path)
    elif layout == "safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "ck.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({layout: state, "epoch": 1}, path)
    result = load_weights(path, target)
    assert result.complete and len(result.loaded) == len(state)
    for k, v in source.state_dict().items():
        assert torch.equal(target.state_dict()[k], v), k
    if layout == "lightning":
        assert result.metadata["lightning_version"] == "2.4.0"


def test_mismatched_keys_are_listed_and_no_strict_loads_what_fits(tmp_path):
    source = small_cnn(0)
    state = source.state_dict()
    state["extra.weight"] = torch.zeros(1)
    state["4.weight"] = torch.zeros(5, 144)  # the head of another task
    del state["1.running_mean"]
    torch.save(state, tmp_path / "ck.pt")
    target = small_cnn(1)
    with pytest.raises(CheckpointError) as err:
        load_weights(tmp_path / "ck.pt", target)
    msg = str(err.value)
    assert "shape mismatch 4.weight (5, 144) vs model (2, 144)" in msg
    for needle in ("missing 1.running_mean", "unexpected extra.weight", "--no-strict"):
        assert needle in msg, msg
    head_before = target[4].weight.clone()
    result = load_weights(tmp_path / "ck.pt", target, strict=False)
    assert not result.complete and "1.running_mean" in result.missing
    assert torch.equal(target[0].weight, source[0].weight)  # what fits is loaded
    assert torch.equal(target[4].weight, head_before)


def test_pickles_are_refused_with_the_fix(tmp_path):
    torch.save(small_cnn(), tmp_path / "whole.pt")
    with pytest.raises(CheckpointError, match=r"pickled model object .*torch.save\(model.state_dict\(\)"):
        load_weights(tmp_path / "whole.pt", small_cnn())
    assert isinstance(CheckpointError("x"), InputError)


# -- inputs ----------------------------------------------------------------------------------

def test_tensor_files_images_and_normalisation(tmp_path):
    batch = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    torch.save(batch, tmp_path / "b.pt")
    got = load_input(tmp_path / "b.pt", mean=[0.5], std=[0.5, 0.25, 2.0])
    expected = (batch.float() / 255 - 0.5) / torch.tensor([0.5, 0.25, 2.0]).view(3, 1, 1)
    assert torch.allclose(got.tensor, expected)
    pixels = np.array([[[255, 0, 51]]], dtype=np.uint8).repeat(2, 0).repeat(3, 1)  # (2, 3, 3) RGB
    Image.fromarray(pixels).save(tmp_path / "one.png")
    one = load_input(tmp_path / "one.png")
    assert one.tensor.shape == (1, 3, 2, 3) and torch.allclose(one.tensor[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    gray = load_input(tmp_path / "one.png", channels=1, size=5)
    assert gray.tensor.shape == (1, 1, 5, 5)
    (tmp_path / "imgs").mkdir()
    Image.fromarray(pixels).save(tmp_path / "imgs" / "a.png")
    Image.fromarray(pixels[:1]).save(tmp_path / "imgs" / "b.png")
    with pytest.raises(InputError, match="different sizes .*--size"):
        load_input(tmp_path / "imgs")
    assert load_input(tmp_path / "imgs", size=8).names == ["a.png", "b.png"]
    with pytest.raises(InputError, match="--mean has 2 values but the input has 3 channels"):
        load_input(tmp_path / "b.pt", mean=[0.1, 0.2])


# -- hooks on models nobody here wrote ---------------------------------------------------------

class Aliased(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.act = nn.ReLU()
        self.after_conv = self.act  # the same module under a second name

    def forward(self, x):
        return self.act(self.conv(x))


def test_a_module_registered_under_two_names():
    model = Aliased()
    assert resolve_names(model) == ["conv", "act"]  # every module once
    assert resolve_names(model, "after_conv") == ["after_conv"]
    x = torch.randn(2, 1, 3, 3)
    with Inspector(model, ["act", "after_conv"]) as insp:
        model(x)
        assert count_hooks(model) == 2  # the pre-forward hook + one hook for the shared module
    expected = torch.relu(model.conv(x))
    assert torch.equal(insp.cache["after_conv"], expected) and torch.equal(insp.cache["act"], expected)


def test_a_glob_that_matches_nothing_suggests_close_names():
    from torchvision.models import resnet18

    with pytest.raises(KeyError, match=r"pattern 'layer1\.\*\.conv' matches no module \(did you mean .*layer1\.0\.conv1"):
        resolve_names(resnet18(), "layer1.*.conv")
    with pytest.raises(KeyError, match="did you mean layer1"):
        resolve_names(resnet18(), "Layer1")


class FramesThenSequence(nn.Module):
    """A 2-D conv on (B*T) frames, then a per-sequence head on (B, ...)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 1)
        self.head = nn.Linear(3, 2)

    def forward(self, video):  # (B, T, 1, H, W)
        b, t = video.shape[:2]
        frames = self.conv(video.flatten(0, 1))  # (B*T, 3, H, W)
        return self.head(frames.mean((2, 3)).view(b, t, 3).mean(1))  # (B, 2)


@pytest.mark.parametrize("b, t", [(4, 2), (2, 2), (3, 1), (1, 3), (6, 3)])
def test_batch_idx_and_timestep_pick_the_right_sequence_for_every_b_t(b, t):
    torch.manual_seed(0)
    model = FramesThenSequence()
    video = torch.randn(b, t, 1, 4, 4)
    bi, ti = b - 1, t - 1
    _, cache = run_with_cache(model, video, names_filter=["conv", "head"], seq_len=t, batch_idx=bi, timestep=ti)
    with torch.no_grad():
        assert torch.allclose(cache["conv"], model.conv(video[bi, ti][None]))  # frame (bi, ti)
        assert torch.allclose(cache["head"], model(video)[bi][None])  # sequence bi, even when B % T == 0
    assert cache["head"].shape == (1, 2)  # a (B, 2) head is per sequence, also when T == 2


def test_lstm_attention_and_vit_layers():
    from torchvision.models import VisionTransformer

    torch.manual_seed(0)
    lstm_bf, lstm_tf = nn.LSTM(3, 5, batch_first=True), nn.LSTM(3, 5)
    x = torch.randn(4, 2, 3)  # (B=4, T=2, F)
    _, c = run_with_cache(nn.Sequential(lstm_bf), x, names_filter="0", seq_len=2, batch_idx=1, timestep=1)
    assert torch.allclose(c["0"], lstm_bf(x)[0][1, 1][None])
    _, c = run_with_cache(nn.Sequential(lstm_tf), x.transpose(0, 1), names_filter="0", seq_len=2,
                          batch_size=4, batch_idx=1, timestep=1)
    assert torch.allclose(c["0"], lstm_tf(x.transpose(0, 1))[0][1, 1][None])  # (T, B, H) layout
    mha = nn.MultiheadAttention(6, 2, batch_first=True).eval()
    q = torch.randn(2, 5, 6)

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x):
            return self.attn(x, x, x)[0]

    _, c = run_with_cache(Attend(), q, names_filter="attn")
    assert torch.allclose(c["attn"], mha(q, q, q)[0])  # the first tensor of the (output, weights) tuple
    vit = VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16,
                            num_classes=3).eval()
    img = torch.randn(2, 3, 16, 16)
    _, c = run_with_cache(vit, img, names_filter=["encoder.layers.encoder_layer_*", "encoder.layers.*.self_attention"])
    assert c["encoder.layers.encoder_layer_1"].shape == (2, 5, 8)  # (N, tokens, dim)
    assert c["encoder.layers.encoder_layer_0.self_attention"].shape == (2, 5, 8)
    row = layer_summary(c["encoder.layers.encoder_layer_1"].transpose(1, 2))  # features as channels
    assert row["channels"] == 8 and math.isfinite(row["channel_entropy"])
    report = FeatureReport.from_model(vit, img, layers="encoder.layers.encoder_layer_1")
    assert "class_token" in report.not_reinitialised and report.profile == "relative_to_init"


def test_functional_ops_are_captured_through_an_identity_module():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 1)
            self.after_relu = nn.Identity()

        def forward(self, x):
            return self.after_relu(torch.relu(self.conv(x)))

    model = Functional()
    x = torch.randn(1, 1, 3, 3)
    _, c = run_with_cache(model, x, names_filter="after_relu")
    assert torch.equal(c["after_relu"], torch.relu(model.conv(x)))
    assert "relu" not in resolve_names(model)


# -- statistics in every float dtype -----------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_statistics_in_half_and_double_precision(dtype):
    torch.manual_seed(0)
    x = torch.relu(torch.randn(3, 4, 6, 6, dtype=torch.float64)).to(dtype)
    reference = x.to(torch.float64)  # the same values, measured in float64
    row, ref = layer_summary(x), layer_summary(reference)
    for key in ("mean", "sparsity", "dead_channels", "channel_entropy", "spatial_diversity"):
        assert row[key] == pytest.approx(ref[key], rel=1e-5, abs=1e-6), key
    assert channel_entropy(x).dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    t, t_ref = feature_report({"a": x}).table, feature_report({"a": reference}).table
    assert t.loc["a", "channel_entropy"] == pytest.approx(t_ref.loc["a", "channel_entropy"], rel=1e-6)


# -- the feature report judges against initialisation --------------------------------------------

def test_fresh_bn_relu_is_ok_relative_to_init_but_critical_for_the_arc_notes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU()).train()
    x = torch.randn(16, 3, 12, 12)
    relative = FeatureReport.from_model(model, x, layers=["2"])
    sparsity = relative.table.loc["2", "sparsity"]
    assert 0.5 <= sparsity < 0.52  # BatchNorm + ReLU: half the values are zero by construction
    assert relative.table.loc["2", "sparsity_init"] == pytest.approx(0.5, abs=0.02)
    assert set(relative.verdicts.loc["2"]) == {"ok"}
    arc = FeatureReport.from_model(model, x, layers=["2"], profile="arc_notes")
    assert arc.verdicts.loc["2", "sparsity"] == "critical" and ARC_NOTES["sparsity"].critical_above == 0.5
    guide = FeatureReport.from_model(model, x, layers=["2"], profile="inspection_guide")
    assert guide.verdicts.loc["2", "sparsity"] == "ok" and guide.verdicts.loc["2", "channel_entropy"] == "n/a"
    assert "profile `inspection_guide`" in guide.to_markdown()


def test_a_planted_dead_layer_is_critical_relative_to_init():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    with torch.no_grad():
        model[0].bias[:4] = -100.0  # half the channels can never fire
    report = FeatureReport.from_model(model, torch.randn(8, 3, 10, 10), layers=["1"])
    t = report.table.loc["1"]
    assert t["dead_channels"] == 4 and t["dead_fraction_verdict"] == "critical"
    assert t["sparsity"] - t["sparsity_init"] > 0.2 and t["sparsity_verdict"] in ("high", "critical")


def test_reinitialised_copy_redraws_parameters_and_leaves_the_model_alone():
    model = small_cnn(0)
    with torch.no_grad():
        model[0].weight.fill_(3.0)
        model[1].running_mean.fill_(7.0)
    rng_state = torch.get_rng_state()
    fresh, kept = reinitialised_copy(model, seed=1)
    assert torch.equal(torch.get_rng_state(), rng_state)  # the global RNG is untouched
    assert (model[0].weight == 3.0).all() and not (fresh[0].weight == 3.0).any()
    assert torch.equal(fresh[1].running_mean, torch.zeros(4)) and kept == []
    again, _ = reinitialised_copy(model, seed=1)
    assert torch.equal(again[0].weight, fresh[0].weight)  # seeded
    with pytest.raises(ValueError, match="needs reference="):
        feature_report({"a": torch.rand(2, 3, 4, 4)}, profile="relative_to_init")


def test_analyze_reads_half_and_double_feature_files(tmp_path, capsys):
    import json

    from nblib.inspect.analyze import main as analyze
    from nblib.inspect import save_features

    torch.manual_seed(0)
    x = torch.relu(torch.randn(2, 4, 6, 6))
    save_features(tmp_path / "f.pt", {"half": x.half(), "bf16": x.bfloat16(), "double": x.double()}, {})
    assert analyze([str(tmp_path / "f.pt"), "--save-dir", str(tmp_path / "out")]) == 0
    rows = json.loads((tmp_path / "out" / "stats.json").read_text())["layers"]
    expected = (x == 0).float().mean().item()
    assert all(rows[k]["sparsity"] == pytest.approx(expected) for k in ("half", "bf16", "double"))


def test_a_module_that_resizes_itself_on_load_loads_strictly(tmp_path):
    class Growing(nn.Module):  # like IncrementalNeuralHashing: the checkpoint decides the size
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(0, 2))

        def _load_from_state_dict(self, state_dict, prefix, *args):
            if prefix + "weight" in state_dict:
                self.weight = nn.Parameter(torch.empty_like(state_dict[prefix + "weight"]))
            super()._load_from_state_dict(state_dict, prefix, *args)

    torch.save({"weight": torch.arange(6.0).view(3, 2)}, tmp_path / "g.pt")
    model = Growing()
    assert load_weights(tmp_path / "g.pt", model).complete
    assert torch.equal(model.weight, torch.arange(6.0).view(3, 2))
