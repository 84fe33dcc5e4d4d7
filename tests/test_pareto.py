"""pareto_front against a brute-force double loop, known fronts, directions and planted points."""
import numpy as np
import pytest

from nblib.interpret import dominates, pareto_front


def brute_force(points, maximize):
    p = np.asarray(points, float) * np.where(np.broadcast_to(maximize, (points.shape[1],)), 1, -1)
    out = []
    for j in range(len(p)):
        out.append(not any(all(p[i] >= p[j]) and any(p[i] > p[j]) for i in range(len(p)) if i != j))
    return np.array(out)


@pytest.mark.parametrize("seed", range(20))
def test_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 40), rng.integers(1, 4)
    pts = rng.integers(0, 5, size=(n, m)).astype(float)     # small integers: many ties and duplicates
    maximize = rng.integers(0, 2, size=m).astype(bool)
    assert (pareto_front(pts, maximize) == brute_force(pts, maximize)).all()


def test_known_fronts_and_directions():
    pts = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.4, 0.4], [0.9, 0.1]])
    assert pareto_front(pts).tolist() == [True, True, True, False, True]        # duplicates both stay
    assert pareto_front(pts, maximize=False).tolist() == [True, False, True, True, True]
    assert pareto_front(pts, maximize=[True, False]).tolist() == [True, False, False, False, True]
    assert dominates([1, 1], [1, 0]) and not dominates([1, 1], [1, 1]) and not dominates([1, 0], [0, 1])


def test_a_planted_dominating_point_empties_the_rest_of_the_front():
    rng = np.random.default_rng(0)
    pts = rng.random((50, 3))
    assert pareto_front(pts).sum() > 1
    pts = np.vstack([pts, pts.max(0) + 0.01])
    assert pareto_front(pts).tolist() == [False] * 50 + [True]


def test_errors_and_empty():
    assert pareto_front(np.zeros((0, 2))).shape == (0,)
    with pytest.raises(ValueError):
        pareto_front(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        pareto_front(np.array([[1.0, np.nan]]))
