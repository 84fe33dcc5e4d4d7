"""The two command-line tools: a full extract -> analyse run, and every bad input -> one line, exit 2."""
import pytest
import torch

from nblib import save_checkpoint
from nblib.inspect.analyze import main as analyze
from nblib.inspect.__main__ import main as inspect_cli
from nblib.inspect.storage import save_features
from nblib.models import build_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "resnet.pt"
    torch.manual_seed(0)
    save_checkpoint(path, build_model("resnet18"), step=0)
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_extract_then_analyse(checkpoint, tmp_path, capsys):
    out = tmp_path / "feats"
    assert inspect_cli(["--checkpoint", str(checkpoint), "--model", "resnet18", "--layers", "conv1", "layer1",
                        "layer4", "--batch-idx", "1", "--timestep", "2", "--frames", "4", "--save-dir", str(out)]) == 0
    feature_file = out / "features_b1_t2_resnet18_64.pt"
    assert feature_file.exists() and (out / "layer1_b1_t2.png").exists()
    ana = tmp_path / "ana"
    assert analyze([str(feature_file), "--layers", "conv1", "layer1", "--save-dir", str(ana)]) == 0
    for name in ("conv1_distribution.png", "layer1_channel_stats.png", "layer1_spatial_patterns.png",
                 "layer_comparison.png", "stats.md", "stats.json"):
        assert (ana / name).exists(), name
    assert "| layer1" in (ana / "stats.md").read_text()


@pytest.mark.parametrize("args, needle", [
    (["--checkpoint", "missing.pt"], "checkpoint not found"),
    (["--checkpoint", "{junk}"], "cannot read checkpoint"),
    (["--checkpoint", "{ck}", "--layers", "layer9"], "unknown layer 'layer9'"),
    (["--checkpoint", "{ck}", "--timestep", "8"], "--timestep 8 out of range"),
    (["--checkpoint", "{ck}", "--batch-idx", "-1"], "--batch-idx -1 out of range"),
    (["--checkpoint", "{small}"], "does not fit"),
])
def test_inspect_bad_input(args, needle, checkpoint, tmp_path, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    small = save_checkpoint(tmp_path / "small.pt", torch.nn.Linear(2, 2))
    args = [a.format(ck=checkpoint, junk=junk, small=small) for a in args]
    assert inspect_cli(args + ["--save-dir", str(tmp_path)]) == 2
    assert needle in one_error_line(capsys)


def test_unknown_layer_lists_available_names(checkpoint, tmp_path, capsys):
    inspect_cli(["--checkpoint", str(checkpoint), "--layers", "conv9", "--save-dir", str(tmp_path)])
    assert "available: conv1, bn1, relu, maxpool, layer1" in one_error_line(capsys)


def test_analyze_bad_input(tmp_path, capsys):
    good = save_features(tmp_path / "f.pt", {"a": torch.rand(2, 3, 4, 4), "empty": torch.zeros(0, 3),
                                             "flat": torch.rand(5)}, {})
    (tmp_path / "junk.pt").write_bytes(b"junk")
    cases = [
        ([str(tmp_path / "none.pt")], "not found"),
        ([str(tmp_path / "junk.pt")], "cannot read feature file"),
        ([str(good), "--layers", "b"], "unknown layer b; available: a, empty, flat"),
        ([str(good), "--layers", "empty"], "empty activations"),
        ([str(good), "--layers", "flat"], "expected (N, C, ...)"),
    ]
    for args, needle in cases:
        assert analyze(args + ["--save-dir", str(tmp_path / "out")]) == 2
        assert needle in one_error_line(capsys)


def test_cli_modules_run_as_scripts(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "nblib.inspect", "--checkpoint", str(tmp_path / "x.pt")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == f"error: checkpoint not found: {tmp_path / 'x.pt'}"
