"""step_crossings and hutchinson_diagonal on quadratics whose curvature is known exactly."""
import pytest
import torch
from torch import nn

from nblib.dynamics import hutchinson_diagonal, step_crossings


class Point(nn.Module):
    """model(x) = w (x is ignored): the loss alone sets the landscape."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x):
        return self.w


def quadratic(h):
    # loss(w; y) = 0.5 * sum_i h_i (w_i - y_i)^2: Hessian diag(h); the batch's target y is the noise
    return lambda out, y: 0.5 * (h * (out - y).square()).sum()


def test_same_batch_reading_recovers_the_curvature_sign():
    torch.manual_seed(0)
    n = 1000
    h = torch.where(torch.arange(n) % 2 == 0, torch.tensor(1.0), torch.tensor(-1.0))   # half convex, half concave
    model = Point(torch.randn(n))
    opt = torch.optim.SGD(model.parameters(), lr=1.5)                                  # overshoots convex coords
    y0, y1 = torch.zeros(n), 0.5 * torch.randn(n)
    before = model.w.detach().clone()
    out = step_crossings(model, opt, quadratic(h), (None, y0), (None, y1), hutchinson_samples=4)
    assert torch.equal(model.w.detach(), before), "the model passed in is untouched"
    same = out["same_batch"]
    # convex coordinates overshoot (w -> -0.5 w): all flip, all minima; concave ones move away: no flip
    assert same["flips"] == n // 2 and same["minima"] == n // 2 and same["maxima"] == 0
    assert same["hessian_positive_share_minima"] == 1.0
    assert same["hessian_diag_mean_minima"] == pytest.approx(1.0) and same["hessian_diag_se_minima"] == pytest.approx(0.0)
    # zero-curvature null: flips come from the other batch's target alone
    null = out["zero_curvature_null"]
    assert null["flips"] > 0 and 0.0 <= null["minima_share"] <= 1.0


def test_noise_alone_reads_as_minima_under_plain_sgd():
    # the planted artefact: a flat landscape (h = 0 along the move) gives no curvature, yet with the
    # move following g0, a flip caused by batch noise always has dg against g0 = along dw: "minimum"
    torch.manual_seed(1)
    n = 2000
    h = torch.full((n,), 1e-6)
    model = Point(torch.zeros(n))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = step_crossings(model, opt, quadratic(h), (None, torch.randn(n)), (None, torch.randn(n)))
    assert out["zero_curvature_null"]["minima_share"] == 1.0
    assert out["tracker"]["minima_share"] == 1.0
    assert out["same_batch"]["flips"] == 0


def test_hutchinson_matches_the_exact_hessian_diagonal():
    torch.manual_seed(2)
    a = torch.randn(6, 6)
    hess = a + a.t()

    class Quad(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(6))

        def forward(self, x):
            return self.w

    model = Quad()
    loss = lambda w, y: 0.5 * w @ hess @ w
    mean, se = hutchinson_diagonal(model, loss, (None, None), samples=4000, seed=0)
    assert ((mean - hess.diagonal()).abs() <= 4 * se + 1e-6).all()
    assert (mean - hess.diagonal()).abs().max() < 0.3
