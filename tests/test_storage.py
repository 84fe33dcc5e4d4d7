"""Feature files and checkpoints: round trips without pickle, and clear errors."""
import pytest
import torch

from nblib import CheckpointError, load_checkpoint, save_checkpoint
from nblib.inspect import load_features, save_features


@pytest.mark.parametrize("ext", [".pt", ".npz"])
def test_features_round_trip_with_metadata(tmp_path, ext):
    acts = {"conv1": torch.randn(2, 4, 3, 3), "layer1.0.relu": torch.rand(2, 8)}
    meta = {"checkpoint": "a.pt", "layers": list(acts), "batch": {"batch_idx": 0, "timestep": 3}}
    path = save_features(tmp_path / f"f{ext}", acts, meta)
    got = load_features(path)
    assert got.metadata == meta
    assert set(got.activations) == set(acts)
    for k in acts:
        assert torch.equal(got.activations[k], acts[k])


def test_pt_feature_file_loads_with_weights_only(tmp_path):
    path = save_features(tmp_path / "f.pt", {"a": torch.ones(1, 2)}, {"k": 1})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "nblib.features/1"


def test_feature_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_features(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="cannot read"):
        load_features(tmp_path / "junk.pt")
    torch.save({"something": torch.ones(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an nblib feature file"):
        load_features(tmp_path / "other.pt")
    with pytest.raises(TypeError, match="JSON"):
        save_features(tmp_path / "f.pt", {"a": torch.ones(1)}, {"obj": object()})
    with pytest.raises(ValueError, match="extension"):
        save_features(tmp_path / "f.pkl", {"a": torch.ones(1)})


def test_checkpoint_round_trip_and_errors(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "m.pt", model, step=7)
    other = torch.nn.Linear(3, 2)
    assert load_checkpoint(path, other) == {"step": 7}
    assert torch.equal(other.weight, model.weight)
    torch.save(model.state_dict(), tmp_path / "bare.pt")  # a bare state dict works too
    load_checkpoint(tmp_path / "bare.pt", other)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt", other)
    (tmp_path / "junk.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(tmp_path / "junk.pt", other)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path, torch.nn.Linear(4, 2))
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(path, torch.nn.Sequential(torch.nn.Linear(3, 2)))
