"""Seeds, device choice, quick-mode parameters, paths."""
import pytest
import torch

import nblib
from nblib.paths import assets_dir, data_root


def test_set_seed_reproduces_all_generators():
    import random

    import numpy as np

    nblib.set_seed(3)
    a = (random.random(), np.random.rand(), torch.rand(2))
    nblib.set_seed(3)
    b = (random.random(), np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    nblib.set_seed(3, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    nblib.set_seed(3)
    assert not torch.are_deterministic_algorithms_enabled()


def test_device_choice():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert nblib.device().type == expected
    assert nblib.device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            nblib.device("cuda")


def test_resolve_params_swaps_sizes_in_quick_mode(monkeypatch):
    full, quick = {"seed": 0, "steps": 1000}, {"steps": 5}
    monkeypatch.setenv("NBLIB_QUICK", "1")
    p = nblib.resolve_params(full, quick, verbose=False)
    assert (p.steps, p.seed, p.quick) == (5, 0, True)
    monkeypatch.setenv("NBLIB_QUICK", "0")
    p = nblib.resolve_params(full, quick, verbose=False)
    assert (p.steps, p.quick) == (1000, False)
    with pytest.raises(KeyError, match="unknown parameters"):
        nblib.resolve_params(full, {"stepz": 1})


def test_data_root_and_quick_assets(monkeypatch, tmp_path):
    monkeypatch.setenv("NBLIB_DATA", str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv("NBLIB_DATA")
    assert data_root().name == "data"
    monkeypatch.setenv("NBLIB_QUICK", "1")
    assert "nblib-quick-assets" in str(assets_dir())  # smoke runs never overwrite assets/


def test_run_clock_report_names_device_data_and_runtime():
    text = nblib.RunClock().report(torch.device("cpu"), ["dSprites generated"], quick=False)
    assert "device:  cpu" in text and "data:    dSprites generated" in text and "runtime:" in text
