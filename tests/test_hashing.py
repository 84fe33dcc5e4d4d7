"""IncrementalNeuralHashing and its pieces: known-answer thresholds, 100% precision on the batch,
growth that leaves old slots alone, pruning of exactly the dead slots, unmatched detection,
checkpoints, the evaluation metrics, and a one-step smoke test."""
import copy

import pytest
import torch
import torch.nn.functional as F

import nblib
from nblib.layers.hashing import IncrementalNeuralHashing, NO_NEGATIVES, max_norm_view, precision_on_batch, precision_thresholds, slot_scores, thresholds_in_force, update_running_thresholds
from nblib.continual import accuracy_vs_new_slots, auroc, forgetting_breakdown, match_metrics, nearest_neighbour_predict, slot_input_gradients, slot_update, slots_needed
from nblib.engine import fit_hashing

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def clustered(n_per_class=40, n_classes=3, dim=16, spread=0.3, seed=0):
    """Gaussian clusters around random class centres: (N, dim) and labels."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=g) * 2
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    return centres[labels] + spread * torch.randn(labels.shape[0], dim, generator=g), labels


def head_with_slots(directions, labels, thresholds, **kw):
    head = IncrementalNeuralHashing(directions.shape[1], int(labels.max()) + 1, **kw)
    head._set_slots(F.normalize(directions, dim=1), labels, thresholds, torch.zeros_like(labels))
    return head


# ----------------------------------------------------------------------------- thresholds
def test_precision_thresholds_known_answer():
    scores = torch.tensor([[0.9, 0.1], [0.5, 0.7], [0.3, 0.2]])
    result = precision_thresholds(scores, torch.tensor([0, 1, 0]), torch.tensor([0, 1]))
    assert result.thresholds.tolist() == pytest.approx([0.5, 0.2])  # the best other-class score
    assert result.has_negatives.tolist() == [True, True]
    alone = precision_thresholds(scores, torch.tensor([0, 0, 0]), torch.tensor([0, 1]))
    assert alone.thresholds.tolist() == pytest.approx([NO_NEGATIVES, 0.7]) and alone.has_negatives.tolist() == [False, True]


@pytest.mark.parametrize("seed", range(5))
def test_thresholds_give_100_percent_precision_and_are_the_lowest(seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(64, 20, generator=g) * 2 - 1
    labels, slot_labels = torch.randint(0, 4, (64,), generator=g), torch.randint(0, 4, (20,), generator=g)
    thr = precision_thresholds(scores, labels, slot_labels).thresholds
    fires = scores > thr
    assert not (fires & (labels[:, None] != slot_labels[None, :])).any()  # never fires on another class
    assert (precision_on_batch(scores, labels, slot_labels, thr).nan_to_num(1.0) == 1).all()
    other = labels[:, None] != slot_labels[None, :]
    assert ((scores == thr) & other).any(0).all()  # any lower threshold would fire on that example


def test_running_average_and_modes():
    running = torch.tensor([0.2, 0.4])
    batch = precision_thresholds(torch.tensor([[0.6, 0.9]]), torch.tensor([1]), torch.tensor([0, 1]))
    assert update_running_thresholds(running, batch, 0.5).tolist() == pytest.approx([0.4, 0.4])  # slot 1: no negative
    assert thresholds_in_force(running, batch, "batch").tolist() == pytest.approx([0.6, 0.4])
    assert thresholds_in_force(running, batch, "running").tolist() == pytest.approx([0.2, 0.4])
    assert thresholds_in_force(running, None, "batch").tolist() == pytest.approx([0.2, 0.4])
    with pytest.raises(ValueError, match="batch' or 'running"):
        thresholds_in_force(running, batch, "median")
    with pytest.raises(ValueError, match="momentum"):
        update_running_thresholds(running, batch, 1.5)


# ----------------------------------------------------------------------------- forward
def test_views_and_unmatched_detection():
    views = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 3.0, 0.0]]])  # one input, two views
    assert max_norm_view(views).tolist() == [[0.0, 3.0, 0.0]]
    eye = torch.eye(3)
    assert torch.allclose(slot_scores(views, eye), torch.tensor([[1.0, 1.0, 0.0]]))  # best view per slot
    head = head_with_slots(eye[:2], torch.tensor([0, 1]), torch.tensor([0.5, 0.5]))
    x = torch.tensor([[1.0, 0.1, 0.0], [0.1, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    m = head.match(x)
    assert m.unmatched.tolist() == [False, False, True, True]
    assert m.prediction.tolist() == [0, 1, -1, -1]
    assert (m.best_margin[2:] <= 0).all() and (m.best_margin[:2] > 0).all()
    assert m.logits[2:].abs().max() == 0  # nothing matched: all class outputs are zero
    with pytest.raises(ValueError, match="in_features"):
        head.match(torch.randn(2, 5))
    empty = IncrementalNeuralHashing(3, 2).match(x)
    assert empty.unmatched.all() and empty.logits.shape == (4, 2)


def test_softmax_pooling_approaches_max_and_handles_empty_classes():
    torch.manual_seed(0)
    dirs, labels = torch.randn(7, 5), torch.tensor([0, 0, 0, 2, 2, 0, 2])  # class 1 has no slot
    x = torch.randn(9, 5)
    hard = head_with_slots(dirs, labels, torch.full((7,), -0.5))
    soft = head_with_slots(dirs, labels, torch.full((7,), -0.5), pooling="softmax", temperature=1e-3)
    assert torch.allclose(soft(x), hard(x), atol=1e-3)
    assert (soft(x)[:, 1] == 0).all() and (hard(x)[:, 1] == 0).all()


# ----------------------------------------------------------------------------- growth
def test_learn_grows_until_the_batch_is_matched_with_full_precision():
    x, y = clustered()
    head = IncrementalNeuralHashing(16, 3)
    m = head.learn(x, y)
    assert head.n_slots > 0 and head.slots_per_class.sum() == head.n_slots
    assert not m.unmatched.any()  # greedy set cover covered every example
    fires = m.margins > 0
    assert not (fires & (y[:, None] != head.slot_labels[None, :])).any()  # batch thresholds: 100% precise
    assert head.n_slots < x.shape[0]  # clusters compress: fewer slots than examples


def test_growth_keeps_old_slots_and_replaces_the_optimiser():
    x, y = clustered(seed=1)
    head = IncrementalNeuralHashing(16, 3)
    head.learn(x[::2], y[::2])
    n_old, old = head.n_slots, copy.deepcopy(head)
    probe = torch.randn(50, 16)
    new_x, new_y = torch.randn(10, 16) * 3, torch.randint(0, 3, (10,))
    head.add_slots(new_x, new_y, torch.cat([x, new_x]), torch.cat([y, new_y]))
    assert head.n_slots > n_old
    assert torch.equal(head.weight[:n_old], old.weight) and torch.equal(head.slot_labels[:n_old], old.slot_labels)
    assert torch.equal(head.thresholds[:n_old], old.thresholds)
    # same slots, same outputs (up to float rounding: a wider matrix product may sum in another order)
    assert torch.allclose(head.match(probe).margins[:, :n_old], old.match(probe).margins, atol=1e-6, rtol=0)
    params = head.optimizer.param_groups[0]["params"]
    assert any(p is head.weight for p in params) and not any(p is old.weight for p in params)
    assert head.optimizer.param_groups[0]["momentum"] == 0 and not head.optimizer.state


def test_slots_as_negatives_raise_new_thresholds():
    old_dir = torch.tensor([[1.0, 0.0]])
    plain = head_with_slots(old_dir, torch.tensor([0]), torch.tensor([0.0]))
    guarded = head_with_slots(old_dir, torch.tensor([0]), torch.tensor([0.0]), slots_as_negatives=True)
    near = torch.tensor([[1.0, 0.3]])  # a class-1 example close to the class-0 slot, alone in its batch
    for head in (plain, guarded):
        head.add_slots(near, torch.tensor([1]))
    cos = F.cosine_similarity(near, old_dir).item()
    assert plain.thresholds[1].item() == NO_NEGATIVES
    assert guarded.thresholds[1].item() == pytest.approx(cos)


# ----------------------------------------------------------------------------- pruning
def test_pruning_removes_exactly_the_dead_slots_of_seen_classes():
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    head = head_with_slots(torch.randn(6, 4), labels, torch.linspace(0, 0.5, 6))
    head.slot_activations = torch.tensor([3, 0, 0, 0, 5, 1])
    head.class_seen = torch.tensor([True, True, False])  # class 2 absent this epoch: its slots stay
    keep = torch.tensor([0, 2, 4, 5])
    before = copy.deepcopy(head)
    pruned = head.prune_dead()
    assert pruned.tolist() == [1, 1, 0]
    assert torch.equal(head.weight, before.weight[keep]) and torch.equal(head.slot_labels, labels[keep])
    assert torch.equal(head.thresholds, before.thresholds[keep])
    assert head.slots_per_class.tolist() == [1, 1, 2]
    assert not head.slot_activations.any() and not head.class_seen.any()
    assert head.optimizer.param_groups[0]["params"][0] is head.weight


def test_a_slot_that_never_matches_is_pruned_after_an_epoch():
    x, y = clustered(seed=2)
    head = IncrementalNeuralHashing(16, 3)
    fit_hashing(head, x, y, epochs=1, batch_size=40, progress=False)
    n = head.n_slots
    head.train()
    head._set_slots(torch.cat([head.weight.detach(), -x[:1]]), torch.cat([head.slot_labels, y[:1]]),
                    torch.cat([head.thresholds, torch.tensor([0.999])]), torch.zeros(n + 1, dtype=torch.long))
    head.grow = False
    with torch.no_grad():
        head.learn(x, y)
    assert head.n_slots == n + 1 and head.slot_activations[n] == 0 and (head.slot_activations[:n] > 0).all()
    head.prune_dead()
    assert head.n_slots == n and not any(torch.allclose(w, F.normalize(-x[0], dim=0)) for w in head.weight)


# ----------------------------------------------------------------------------- checkpoints, smoke
def test_checkpoint_round_trip_resizes_the_slots(tmp_path):
    x, y = clustered(seed=3)
    head = IncrementalNeuralHashing(16, 3)
    fit_hashing(head, x, y, epochs=2, batch_size=40, progress=False)
    nblib.save_checkpoint(tmp_path / "head.pt", head)
    fresh = IncrementalNeuralHashing(16, 3)
    nblib.load_checkpoint(tmp_path / "head.pt", fresh)
    assert fresh.n_slots == head.n_slots and torch.equal(fresh.slots_per_class, head.slots_per_class)
    assert torch.equal(fresh(x), head(x))


@pytest.mark.parametrize("dev", DEVICES)
def test_one_training_step_with_a_backbone(dev):
    torch.manual_seed(0)
    x, y = clustered(seed=4)
    x, y = x.to(dev), y.to(dev)
    backbone = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU()).to(dev)
    head = IncrementalNeuralHashing(32, 3).to(dev)
    m = head.learn(backbone(x), y)
    loss = F.cross_entropy(m.logits, y)
    loss.backward()
    assert torch.isfinite(loss) and head.weight.grad is not None and head.weight.grad.abs().sum() > 0
    assert backbone[0].weight.grad.abs().sum() > 0  # the slots train the backbone too
    before = head.weight.detach().clone()
    head.optimizer.step()
    assert not torch.equal(before, head.weight) and head.weight.device.type == dev


# ----------------------------------------------------------------------------- evaluation
def test_match_metrics_known_answer():
    head = head_with_slots(torch.eye(2), torch.tensor([0, 1]), torch.tensor([0.5, 0.5]))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, -1.0]])
    metrics = match_metrics(head.match(x), torch.tensor([0, 0, 0, 1]))
    assert metrics["accuracy"] == pytest.approx(0.5) and metrics["unmatched"] == pytest.approx(0.25)
    assert metrics["accuracy_matched"] == pytest.approx(2 / 3)


def test_slot_update_curve_ends_at_the_updated_accuracy():
    x, y = clustered(n_per_class=60, seed=5, spread=0.8)
    head = IncrementalNeuralHashing(16, 3)
    fit_hashing(head, x[:90], y[:90], epochs=2, batch_size=30, progress=False)
    head.recompute_thresholds(x[:90], y[:90])
    update = slot_update(head, x[90:], y[90:], x[:90], y[:90])
    curve = accuracy_vs_new_slots(update.head, update.n_old, x[90:], y[90:])
    assert curve.shape == (update.n_new + 1,)
    assert curve[0].item() == pytest.approx(match_metrics(head.match(x[90:]), y[90:])["accuracy"])
    assert curve[-1].item() == pytest.approx(match_metrics(update.head.match(x[90:]), y[90:])["accuracy"])
    assert not update.head.match(x[90:]).unmatched.any() and update.head is not head
    assert slots_needed(curve, curve[-1].item()) <= update.n_new and slots_needed(curve, 1.01) is None


def test_auroc_known_answers():
    assert auroc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])) == 0.0
    assert auroc(torch.tensor([1.0, 1.0]), torch.tensor([1.0])) == 0.5
    assert auroc(torch.tensor([0.8, 0.4]), torch.tensor([0.5, 0.1])) == pytest.approx(0.75)
    assert auroc(torch.tensor([0.5]), torch.tensor([0.5, 0.2])) == pytest.approx(0.75)  # a tie counts 1/2
    with pytest.raises(ValueError):
        auroc(torch.tensor([]), torch.tensor([1.0]))


def test_slot_input_gradients_match_the_closed_form():
    torch.manual_seed(0)
    head = head_with_slots(torch.randn(3, 12), torch.tensor([0, 1, 2]), torch.zeros(3))
    noise = torch.randn(4, 1, 3, 4)
    grads = slot_input_gradients(lambda t: t.flatten(1), head, torch.tensor([2, 0]), noise)
    xs = noise.flatten(1)  # d cos(w, x) / dx = (w_hat - cos * x_hat) / |x|
    for row, s in enumerate([2, 0]):
        w = F.normalize(head.weight[s].detach(), dim=0)
        xh, norm = F.normalize(xs, dim=1), xs.norm(dim=1, keepdim=True)
        expected = ((w - (xh @ w)[:, None] * xh) / norm).mean(0)
        assert torch.allclose(grads[row].flatten(), expected, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="pooling"):
        IncrementalNeuralHashing(4, 2, pooling="mean")
    with pytest.raises(ValueError, match="threshold mode"):
        IncrementalNeuralHashing(4, 2, threshold_mode="median")
    with pytest.raises(ValueError, match="batch_size"):
        fit_hashing(IncrementalNeuralHashing(4, 2), torch.randn(5, 4), torch.zeros(5, dtype=torch.long), 1, batch_size=8)


def test_nearest_neighbour_and_forgetting_breakdown():
    ref = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert nearest_neighbour_predict(torch.tensor([[0.9, 0.2], [0.1, 2.0]]), ref, torch.tensor([4, 7])).tolist() == [4, 7]
    before = head_with_slots(torch.eye(2), torch.tensor([0, 1]), torch.tensor([0.5, 0.5]))
    after = copy.deepcopy(before)
    after.thresholds = torch.tensor([0.95, 0.5])  # slot 0 became stricter
    after._set_slots(torch.cat([after.weight.detach(), F.normalize(torch.tensor([[1.0, 0.6]]), dim=1)]),
                     torch.tensor([0, 1, 1]), torch.tensor([0.95, 0.5, 0.5]), torch.zeros(3, dtype=torch.long))
    z = torch.tensor([[1.0, 0.1], [1.0, 0.5], [0.0, 1.0], [1.0, 0.0]])
    out = forgetting_breakdown(before, after, z)
    # input 1: slot 0 (cos 0.894) no longer beats 0.95 -> lost match; inputs 0 and 3: slot 0 still matches
    # (margins 0.045, 0.05) but the new class-1 slot has more (0.40, 0.36) -> outranked; input 2 keeps slot 1
    assert out["changed"] == pytest.approx(0.75) and out["lost_match"] == pytest.approx(0.25)
    assert out["outranked"] == pytest.approx(0.5) and out["outranked_by_new"] == pytest.approx(0.5)
    assert out["max_weight_change"] == 0 and out["mean_threshold_change"] == pytest.approx(0.225)
    with pytest.raises(ValueError, match="pruned"):
        forgetting_breakdown(after, before, z)
