"""nblib.atomic, the one atomic writer: complete after success, the old file intact after a failure
at any point before the rename, data fsynced before the rename, and every writer of the package on it."""
import json
import warnings

import numpy as np
import pytest
import torch

import nblib.atomic
from nblib import load_checkpoint, save_checkpoint
from nblib.atomic import atomic_path, write_bytes_atomic, write_json_atomic, write_text_atomic, write_torch_atomic
from nblib.cli import StagedDir
from nblib.history import JsonHistory
from nblib.inspect.storage import load_features, save_features


def _linear(value: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.fill_(value)
        layer.bias.fill_(value)
    return layer


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot be saved")


# writer(path, version) writes version 1 or 2; reader(path) returns the version found
WRITERS = {
    "text": (lambda p, v: write_text_atomic(p, f"version {v}\n" * 1000), lambda p: int(p.read_text().split()[1])),
    "json": (lambda p, v: write_json_atomic(p, {"v": v, "pad": [v] * 1000}), lambda p: json.loads(p.read_text())["v"]),
    "bytes": (lambda p, v: write_bytes_atomic(p, bytes([v]) * 4096), lambda p: p.read_bytes()[0]),
    "torch": (lambda p, v: write_torch_atomic(p, {"v": torch.full((512,), v)}),
              lambda p: int(torch.load(p, weights_only=True)["v"][0])),
    "checkpoint": (lambda p, v: save_checkpoint(p, _linear(v), v=v), lambda p: load_checkpoint(p, _linear(0))["v"]),
    "features.pt": (lambda p, v: save_features(p.with_suffix(".pt"), {"a": torch.full((4, 4), float(v))}),
                    lambda p: int(load_features(p.with_suffix(".pt")).activations["a"][0, 0])),
    "features.npz": (lambda p, v: save_features(p.with_suffix(".npz"), {"a": torch.full((4, 4), float(v))}),
                     lambda p: int(load_features(p.with_suffix(".npz")).activations["a"][0, 0])),
    "history": (lambda p, v: JsonHistory(p).append(v, {"x": v}), lambda p: JsonHistory(p).records[-1]["epoch"]),
}


def _target(tmp_path, name):
    return tmp_path / "out" / ("f.pt" if name.startswith("features") else "f.bin")


@pytest.mark.parametrize("name", list(WRITERS))
def test_each_writer_leaves_a_complete_file_and_no_temporary(tmp_path, name):
    write, read = WRITERS[name]
    path = _target(tmp_path, name)
    write(path, 1)  # the folder is created
    write(path, 2)
    assert read(path) == 2
    assert [p.name for p in path.parent.iterdir()] == [path.with_suffix(".npz").name if name == "features.npz"
                                                       else path.name]


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_write_failing_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch, name, where):
    write, read = WRITERS[name]
    path = _target(tmp_path, name)
    write(path, 1)
    before = sorted(p.name for p in path.parent.iterdir())

    def crash(*args):  # the data are written; the process dies before they are on disk / renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(nblib.atomic.os, where, crash)
    with pytest.raises(KeyboardInterrupt):
        write(path, 2)
    monkeypatch.undo()
    assert read(path) == 1, "the old file is intact"
    assert sorted(p.name for p in path.parent.iterdir()) == before, "no temporary file left behind"


def test_an_exception_midway_through_writing_keeps_the_old_file(tmp_path):
    path = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write("half of the new")
        raise RuntimeError("killed midway")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(RuntimeError, match="cannot be saved"):  # torch.save fails with its archive open
        write_torch_atomic(path, {"a": torch.ones(1000), "b": _Unpicklable()})
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_data_are_fsynced_before_the_rename_and_temporaries_are_unique(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = nblib.atomic.os.fsync, nblib.atomic.os.replace
    monkeypatch.setattr(nblib.atomic.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(nblib.atomic.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b)))
    write_text_atomic(tmp_path / "a.txt", "x")
    assert events[:2] == ["fsync", "replace"]
    with atomic_path(tmp_path / "b") as t1, atomic_path(tmp_path / "b") as t2:
        assert t1 != t2 and t1.parent == t2.parent == tmp_path
        t1.write_text("1")
        t2.write_text("2")
    assert (tmp_path / "b").read_text() == "1", "the last rename wins"


def test_staged_dir_fsyncs_every_file_before_moving_it(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr("nblib.cli.fsync_path", lambda p: synced.append(p.name))
    with StagedDir(tmp_path / "report") as stage:
        (stage.path / "a.png").write_bytes(b"png")
        (stage.path / "sub").mkdir()
        (stage.path / "sub" / "b.md").write_text("md")
        stage.commit()
    assert sorted(synced) == ["a.png", "b.md"]
    assert (tmp_path / "report" / "sub" / "b.md").read_text() == "md"


def test_old_import_path_warns_and_gives_the_same_writer():
    import nblib.history

    with pytest.warns(DeprecationWarning, match="nblib.atomic"):
        old = nblib.history.write_json_atomic
    assert old is write_json_atomic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from nblib.correlation import write_json_atomic as public  # still public there, without a warning
    assert public is write_json_atomic
    assert not hasattr(nblib.history, "no_such_name")


def test_npz_features_keep_their_name(tmp_path):
    path = save_features(tmp_path / "f.npz", {"a": torch.ones(2)})
    assert path.name == "f.npz" and np.load(path, allow_pickle=False)["act/a"].tolist() == [1.0, 1.0]
