"""nblib.inspect.slot_metrics against independent references: scipy.ndimage.label for the objects,
sklearn's adjusted_rand_score for FG-ARI, and closed forms for entropy and winning slots."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score

from nblib.inspect.slot_metrics import arc_objects, attention_entropy, fg_ari, winning_slots


def _grids(n=12, seed=0, colours=4):
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(3, 13, (n, 2), generator=g)
    side = torch.arange(14)
    mask = (side[None, :, None] < sizes[:, 0, None, None]) & (side[None, None, :] < sizes[:, 1, None, None])
    c = torch.randint(0, colours, (n, 14, 14), generator=g) * mask  # few colours: sizeable components
    return c, mask


def _scipy_objects(colours, mask, connectivity):
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    out = np.zeros(colours.shape, dtype=np.int64)
    for i in range(colours.shape[0]):
        nxt = 0
        for col in range(1, 10):
            lab, k = ndimage.label((colours[i] == col) & mask[i], structure=structure)
            out[i][lab > 0] = lab[lab > 0] + nxt
            nxt += k
    return out


@pytest.mark.parametrize("connectivity", [4, 8])
def test_arc_objects_match_scipy_label(connectivity):
    c, m = _grids()
    ours = arc_objects(c, m, background=0, connectivity=connectivity).numpy()
    ref = _scipy_objects(c.numpy(), m.numpy(), connectivity)
    for i in range(c.shape[0]):
        assert ours[i].max() == ref[i].max()  # same number of objects, numbered 1..n
        assert adjusted_rand_score(ours[i].ravel(), ref[i].ravel()) == pytest.approx(1.0)  # same partition
        assert ((ours[i] == 0) == (ref[i] == 0)).all()


def test_arc_objects_known_answer_and_background():
    c = torch.tensor([[[1, 1, 0, 2],
                       [0, 1, 0, 2],
                       [3, 0, 2, 0],
                       [3, 3, 0, 5]]])
    m = torch.ones_like(c, dtype=torch.bool)
    four = arc_objects(c, m, connectivity=4)
    assert four.max() == 5  # {1s}, {2s top right}, {3s}, {lone 2}, {5}
    assert four[0, 0, 0] == 1 and four[0, 0, 3] == 2 and four[0, 2, 0] == 3
    eight = arc_objects(c, m, connectivity=8)
    assert eight.max() == 4  # the lone 2 touches the top-right 2s by a corner
    # majority background: 0 is the most common colour here too; a grid of 1s with a 0 hole
    g = torch.ones(1, 3, 3, dtype=torch.long)
    g[0, 1, 1] = 0
    assert arc_objects(g, torch.ones_like(g, dtype=torch.bool), background=None).max() == 1  # the hole is the object
    assert arc_objects(g, torch.ones_like(g, dtype=torch.bool), background=0).max() == 1  # the ring
    # cells outside the mask are never objects
    m2 = m.clone()
    m2[0, :, 2:] = False
    assert (arc_objects(c, m2)[0, :, 2:] == 0).all()


def test_fg_ari_matches_sklearn_on_foreground_cells():
    c, m = _grids(n=20, seed=1)
    objects = arc_objects(c, m)
    g = torch.Generator().manual_seed(2)
    # predictions: random, a coarsened copy of the objects, the objects themselves, one segment
    preds = [torch.randint(0, 7, c.shape, generator=g), objects % 3, objects.clone(), torch.zeros_like(objects)]
    for pred in preds:
        ours = fg_ari(pred, objects)
        for i in range(c.shape[0]):
            fg = (objects[i] > 0).numpy()
            n_obj = len(np.unique(objects[i].numpy()[fg]))
            if n_obj < 2:
                assert math.isnan(ours[i])
                continue
            ref = adjusted_rand_score(objects[i].numpy()[fg], pred[i].numpy()[fg])
            assert ours[i].item() == pytest.approx(ref, abs=1e-5)


def test_fg_ari_known_answers_and_planted_defect():
    objects = torch.tensor([[[1, 1, 0, 2, 2, 0, 3, 3]]])
    assert fg_ari(objects.clone(), objects).item() == pytest.approx(1.0)
    assert fg_ari(torch.zeros_like(objects), objects).item() == pytest.approx(0.0)  # one segment: chance level
    # background cells do not count: the prediction may put them anywhere
    pred = torch.tensor([[[5, 5, 1, 6, 6, 2, 0, 0]]])
    assert fg_ari(pred, objects).item() == pytest.approx(1.0)
    # a planted defect: merging two objects lowers the index
    merged = torch.tensor([[[5, 5, 0, 5, 5, 0, 3, 3]]])
    assert fg_ari(merged, objects).item() < 0.9
    # fewer than 2 objects: NaN
    assert math.isnan(fg_ari(torch.zeros(1, 1, 4, dtype=torch.long), torch.tensor([[[1, 1, 0, 0]]])).item())


def test_entropy_and_winning_slots_for_uniform_one_hot_and_planted():
    n, k, h, w = 3, 7, 5, 6
    mask = torch.ones(n, h, w, dtype=torch.bool)
    mask[:, 3:] = False
    uniform = torch.full((n, k, h, w), 1 / k)
    assert torch.allclose(attention_entropy(uniform, mask), torch.full((n,), math.log(k)))
    assert (winning_slots(uniform, mask) == 1).all()  # ties go to slot 0
    owner = torch.arange(h * w).view(h, w) % 3  # 3 slots own the cells
    hard = torch.nn.functional.one_hot(owner, k).permute(2, 0, 1).float()[None].expand(n, k, h, w)
    assert torch.allclose(attention_entropy(hard, mask), torch.zeros(n), atol=1e-6)
    assert (winning_slots(hard, mask) == 3).all()
    # a slot that wins only outside the grid does not count
    planted = hard.clone()
    planted[:, :, 4, 0] = 0
    planted[:, 6, 4, 0] = 1
    assert (winning_slots(planted, mask) == 3).all()
    mask2 = mask.clone()
    mask2[:, 4, 0] = True
    assert (winning_slots(planted, mask2) == 4).all()
