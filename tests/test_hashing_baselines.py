"""References beside the slot head (notebook 06): slot selection rules against brute force,
nearest class mean / kNN distance / Mahalanobis against numpy and scikit-learn, the replay
memory and the forgetting metric against known answers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nblib.layers.hashing import IncrementalNeuralHashing, cover_of, greedy_set_cover, greedy_set_cover_python, select_slots, slot_selector
from nblib.continual import ReplayBuffer, class_means, fit_mahalanobis, forgetting, knn_distance_score, mahalanobis_score, max_softmax_score, nearest_class_mean_predict, slot_update
from nblib.engine import fit_hashing, fit_linear_probe
from nblib.layers.hashing import max_norm_view


def random_coverage(seed: int, m: int = 30, n: int = 40, density: float = 0.15) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(m, n, generator=g) < density


def as_sets(coverage: torch.Tensor) -> list[set[int]]:
    return [set(row.nonzero().flatten().tolist()) for row in coverage]


def blobs(n_per_class=50, n_classes=4, dim=8, spread=0.4, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=g) * 2
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    return centres[labels] + spread * torch.randn(labels.shape[0], dim, generator=g), labels


# ----------------------------------------------------------------------------- slot selection
def brute_cover(sets: list[set[int]], chosen: list[int], n: int):
    seen, gains = set(), []
    for c in chosen:
        gains.append(len(sets[c] - seen))
        seen |= sets[c]
    return gains, [e in seen for e in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_set_cover_rule_is_greedy_set_cover(seed):
    cov = random_coverage(seed)
    got = select_slots(cov, "set_cover")
    assert got.chosen.tolist() == greedy_set_cover_python(as_sets(cov), cov.shape[1])
    assert select_slots(cov, "set_cover", k=3).chosen.tolist() == got.chosen[:3].tolist()


@pytest.mark.parametrize("seed", range(6))
def test_most_matches_first_against_brute_force(seed):
    cov = random_coverage(seed, density=0.1 + 0.03 * seed)
    sets = as_sets(cov)
    k = len(greedy_set_cover_python(sets, cov.shape[1]))           # default: the set cover's count
    want = sorted(range(len(sets)), key=lambda i: (-len(sets[i]), i))[:k]
    got = select_slots(cov, "most_matches")
    assert got.chosen.tolist() == want
    gains, covered = brute_cover(sets, want, cov.shape[1])
    assert got.gains.tolist() == gains and got.covered.tolist() == covered
    assert select_slots(cov, "most_matches", k=4).chosen.tolist() == want[:4]


def test_random_rule_is_seeded_distinct_and_uniform():
    cov = random_coverage(0, m=20)
    a, b = select_slots(cov, "random", k=5, seed=1), select_slots(cov, "random", k=5, seed=1)
    assert torch.equal(a.chosen, b.chosen) and a.chosen.unique().numel() == 5
    assert not torch.equal(a.chosen, select_slots(cov, "random", k=5, seed=2).chosen)
    counts = torch.zeros(20)
    for s in range(2000):
        counts[select_slots(cov, "random", k=5, seed=s).chosen] += 1
    expected = 2000 * 5 / 20                                            # each candidate: k / M of the draws
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 45, chi2                                              # 19 dof: P(chi2 > 45) < 0.001


def test_cover_of_known_answer_and_equal_counts():
    cov = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1], [1, 1, 1, 0]], dtype=torch.bool)
    c = cover_of(cov, torch.tensor([1, 0, 2]))
    assert c.gains.tolist() == [2, 1, 1] and c.covered.tolist() == [True] * 4
    empty = cover_of(cov, torch.zeros(0, dtype=torch.long))
    assert empty.gains.numel() == 0 and not empty.covered.any()
    k = greedy_set_cover(cov).chosen.numel()                           # {3, 2}: 2 picks
    assert k == 2 and all(select_slots(cov, s).chosen.numel() == k for s in ("most_matches", "random"))
    with pytest.raises(ValueError):
        select_slots(cov, "largest")
    with pytest.raises(ValueError):
        slot_selector("largest")


@pytest.mark.parametrize("strategy", ["set_cover", "most_matches", "random"])
def test_slot_update_with_a_rule_adds_the_same_number_in_pick_order(strategy):
    x, y = blobs(n_per_class=60, n_classes=3, dim=16, spread=1.5, seed=3)
    perm = torch.randperm(180, generator=torch.Generator().manual_seed(0))
    x, y = x[perm], y[perm]
    head = IncrementalNeuralHashing(16, 3, lr=0.05)
    fit_hashing(head, x[:90], y[:90], 2, 32, progress=False)
    head.recompute_thresholds(x[:90], y[:90])
    greedy = slot_update(head, x[90:], y[90:], x[:90], y[:90])
    assert greedy.n_unmatched > greedy.n_new > 0
    picks = []
    rule = slot_selector(strategy, seed=4)
    update = slot_update(head, x[90:], y[90:], x[:90], y[:90], select=lambda cov: picks.append(rule(cov)) or picks[-1])
    assert update.n_new == greedy.n_new and update.head.n_slots == head.n_slots + greedy.n_new
    unmatched = head.match(x[90:]).unmatched
    new_dirs = F.normalize(max_norm_view(x[90:][unmatched]), dim=-1)[picks[0].chosen]
    assert torch.allclose(update.head.weight[head.n_slots:].detach(), new_dirs)   # appended in pick order
    assert torch.equal(update.head.weight[: head.n_slots], head.weight)           # old slots untouched


# ----------------------------------------------------------------------------- continual learning
def test_class_means_and_nearest_class_mean_against_references():
    sklearn = pytest.importorskip("sklearn.neighbors")
    x, y = blobs(seed=1)
    means, counts = class_means(x, y, 6)                                # classes 4, 5 absent
    xn = (x / x.norm(dim=1, keepdim=True)).numpy()
    centroid = sklearn.NearestCentroid().fit(xn, y.numpy())
    assert np.allclose(means[:4].numpy(), centroid.centroids_, atol=1e-6)
    assert counts.tolist() == [50, 50, 50, 50, 0, 0] and (means[4:] == 0).all()
    q = torch.randn(64, 8, generator=torch.Generator().manual_seed(5)) * 3
    qn = (q / q.norm(dim=1, keepdim=True)).numpy()
    unit = centroid.centroids_ / np.linalg.norm(centroid.centroids_, axis=1, keepdims=True)
    brute = np.linalg.norm(qn[:, None, :] - unit[None], axis=2).argmin(1)   # nearest normalised mean, Euclidean
    assert nearest_class_mean_predict(q, means, counts).tolist() == brute.tolist()


def test_replay_buffer_keeps_a_balanced_subset():
    x, y = blobs(n_per_class=30, n_classes=4, seed=2)
    buf = ReplayBuffer(capacity=20, seed=0)
    assert len(buf) == 0 and buf.memory() is None
    buf.update(x[y < 2], y[y < 2])
    assert buf.labels.bincount().tolist() == [10, 10]
    first = {tuple(r) for r in buf.z.tolist()}
    buf.update(x[y >= 2], y[y >= 2])
    assert buf.labels.bincount().tolist() == [5, 5, 5, 5] and len(buf) == 20
    rows = {tuple(r) for r in buf.z.tolist()}
    old = {tuple(r) for r in buf.z[buf.labels < 2].tolist()}
    assert old <= first                                                  # old classes: a subset of what was kept
    assert rows <= {tuple(r) for r in x.tolist()}
    for z_row, label in zip(buf.z, buf.labels):                          # every example keeps its label
        assert int(y[(x == z_row).all(1)][0]) == int(label)
    again = ReplayBuffer(capacity=20, seed=0)
    again.update(x[y < 2], y[y < 2])
    again.update(x[y >= 2], y[y >= 2])
    assert torch.equal(again.z, buf.z)
    small = ReplayBuffer(capacity=100)
    small.update(x[:3], y[:3])                                           # fewer than capacity // classes: all kept
    assert len(small) == 3
    with pytest.raises(ValueError):
        ReplayBuffer(0)


def test_forgetting_known_answer():
    acc = torch.tensor([[0.9, 0.0, 0.0], [0.5, 0.8, 0.0], [0.3, 0.6, 0.7]])
    assert forgetting(acc) == pytest.approx(((0.9 - 0.3) + (0.8 - 0.6)) / 2)
    with pytest.raises(ValueError):
        forgetting(torch.ones(1, 1))


def test_replay_protects_the_first_task_and_empty_replay_is_fine_tuning():
    x, y = blobs(n_per_class=100, n_classes=4, dim=8, spread=0.6, seed=4)
    t1, t2 = y < 2, y >= 2
    fit = lambda z, labels, **kw: fit_linear_probe(z, labels, 4, 50, batch_size=32, lr=1e-2, **kw)
    probe = fit(x[t1], y[t1], seed=0)
    base = fit(x[t2], y[t2], seed=1, probe=probe_copy(probe))
    empty = fit(x[t2], y[t2], seed=1, probe=probe_copy(probe), replay=(x[:0], y[:0]))
    assert torch.equal(base.weight, empty.weight)                        # an empty memory changes nothing
    buf = ReplayBuffer(capacity=20, seed=0)
    buf.update(x[t1], y[t1])
    replayed = fit(x[t2], y[t2], seed=1, probe=probe_copy(probe), replay=buf.memory())
    acc = lambda p, m: (p(x[m]).argmax(1) == y[m]).float().mean().item()
    assert acc(probe, t1) > 0.99
    assert acc(base, t1) < 0.85 and acc(replayed, t1) > 0.95            # fine-tuning forgets part of task 1, replay keeps it
    assert acc(replayed, t2) > 0.95


def probe_copy(probe):
    new = torch.nn.Linear(probe.in_features, probe.out_features)
    new.load_state_dict(probe.state_dict())
    return new


# ----------------------------------------------------------------------------- OOD scores
def test_max_softmax_score_known_answer():
    logits = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    assert max_softmax_score(logits).tolist() == pytest.approx([-0.5, -1 / (1 + np.exp(-10))])


@pytest.mark.parametrize("k", [1, 5])
def test_knn_distance_against_sklearn(k):
    neighbors = pytest.importorskip("sklearn.neighbors")
    ref, _ = blobs(seed=6)
    q = torch.randn(40, 8, generator=torch.Generator().manual_seed(7))
    unit = lambda t: (t / t.norm(dim=1, keepdim=True)).double().numpy()
    dist, _ = neighbors.NearestNeighbors(n_neighbors=k).fit(unit(ref)).kneighbors(unit(q))
    assert np.allclose(knn_distance_score(q, ref, k=k, chunk=7).numpy(), dist[:, -1], atol=1e-4)
    with pytest.raises(ValueError):
        knn_distance_score(q, ref, k=0)


@pytest.mark.parametrize("rank_deficient", [False, True])
def test_mahalanobis_against_sklearn(rank_deficient):
    covariance = pytest.importorskip("sklearn.covariance")
    x, y = blobs(n_per_class=60, n_classes=3, dim=6, spread=0.8, seed=8)
    if rank_deficient:                                                   # a constant feature, like MNIST's border pixels
        x = torch.cat([x, torch.full((x.shape[0], 1), 0.5)], 1)
    model = fit_mahalanobis(x, y, 4)                                      # class 3 absent
    assert model.present.tolist() == [True, True, True, False]
    xd, yd = x.double().numpy(), y.numpy()
    means = np.stack([xd[yd == c].mean(0) for c in range(3)])
    assert np.allclose(model.means[:3].numpy(), means)
    emp = covariance.EmpiricalCovariance(assume_centered=True).fit(xd - means[yd])
    assert np.allclose(model.precision.numpy(), emp.precision_, atol=1e-6)
    q = torch.randn(30, x.shape[1], generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 2
    want = np.stack([emp.mahalanobis(q.numpy() - means[c]) for c in range(3)], 1).min(1)   # squared distances
    assert np.allclose(mahalanobis_score(q, model, chunk=8).numpy(), want, rtol=1e-6, atol=1e-6)
    scipy_d = pytest.importorskip("scipy.spatial.distance")
    d0 = min(scipy_d.mahalanobis(q[0].numpy(), means[c], emp.precision_) ** 2 for c in range(3))
    assert mahalanobis_score(q[:1], model).item() == pytest.approx(d0, rel=1e-6)


def test_ood_scores_rank_far_inputs_higher():
    x, y = blobs(seed=10)
    far = torch.randn(50, 8, generator=torch.Generator().manual_seed(11)) * 10 + 20
    model = fit_mahalanobis(x, y, 4)
    assert mahalanobis_score(far, model).min() > mahalanobis_score(x, model).max()
    assert knn_distance_score(far, x, k=3).mean() > knn_distance_score(x[:50] + 0.01, x, k=3).mean()


def test_accuracy_matrices_wrap_into_rows():
    import matplotlib
    matplotlib.use("Agg")
    from nblib.continual.plots import plot_accuracy_matrices
    fig = plot_accuracy_matrices({f"m{i}": torch.rand(3, 3) for i in range(5)}, ["a", "b", "c"], ncols=3)
    assert len(fig.axes) == 6 and sum(ax.axison for ax in fig.axes) == 5     # 2 rows of 3, the spare one hidden
    assert len(plot_accuracy_matrices({"m": torch.rand(2, 2)}, ["a", "b"]).axes) == 1
