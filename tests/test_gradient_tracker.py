"""GradientTracker on hand-made gradient sequences with known answers, and clean detaching."""
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nblib.dynamics import GradientTracker, SCALARS, TrackerCallback
from nblib.engine import Trainer


class Vec(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(n))


def feed(tracker, model, seq):
    """seq: list of (weights after the step, gradient of the step)."""
    for w, g in seq:
        model.w.data = torch.tensor(w, dtype=torch.float32)
        model.w.grad = torch.tensor(g, dtype=torch.float32)
        tracker.update()
    return tracker.frame()


def make(n=6, **kw):
    model = Vec(n)
    return model, GradientTracker(model, torch.optim.SGD(model.parameters(), lr=0.1), **kw)


def test_zero_release_retain_flip_and_weight_diff_counts():
    model, tr = make(pull_every=1)
    g0 = [0.0, 1e-8, 5e-6, -5e-6, 1.0, -1.0]
    g1 = [0.0, 2e-5, 3e-6, 5e-6, -1.0, -1.0]
    f = feed(tr, model, [([0.0] * 6, g0), ([0.0, 0.0, 0.0, 0.0, 3.0, 4.0], g1)])
    assert f["zero_grads"].tolist() == [2.0, 1.0]  # |g| < 1e-7
    assert f["low_grads"].iloc[1] == 4  # |g0| < 1e-5: components 0-3
    assert f["released_fraction"].iloc[1] == pytest.approx(0.25)  # component 1 grew past 1e-5
    assert f["retained_fraction"].iloc[1] == pytest.approx(0.75)
    assert f["sign_flip_fraction"].iloc[1] == pytest.approx(2 / 6)  # components 3 and 4
    assert f["weight_diff_norm"].iloc[1] == pytest.approx(5.0)  # |(3, 4)|
    assert f["grad_norm"].iloc[1] == pytest.approx(math.sqrt(2 + 4e-10 + 9e-12 + 25e-12), rel=1e-6)
    assert math.isnan(f["released_fraction"].iloc[0])  # no previous step yet
    assert tr.frame()["zero_grad_fraction"].iloc[0] == pytest.approx(2 / 6)


def test_minimum_and_maximum_crossings_use_the_move_between_evaluations():
    # coordinate 0 on f = w^2/2 (g = w), coordinate 1 on f = -w^2/2 (g = -w); both jump
    # over the critical point at every step: w = -1, +1, -1, +1
    pos = [-1.0, 1.0, -1.0, 1.0]
    seq = [([pos[k + 1]] * 2, [pos[k], -pos[k]]) for k in range(3)]  # (w after step k, g at w_k)
    model, tr = make(2)
    f = feed(tr, model, seq)
    assert math.isnan(f["minima_crossed"].iloc[1])  # the move before the first pair is unknown
    assert f["minima_crossed"].iloc[2] == 1 and f["maxima_crossed"].iloc[2] == 1


def test_with_sgd_on_a_quadratic_every_overshoot_is_a_minimum():
    model = Vec(3)
    model.w.data = torch.tensor([1.0, -2.0, 0.5])
    opt = torch.optim.SGD(model.parameters(), lr=1.5)  # overshoots: w -> -0.5 w
    with GradientTracker(model, opt, pull_every=4) as tr:
        for _ in range(6):
            opt.zero_grad()
            (0.5 * model.w.square().sum()).backward()
            opt.step()
    f = tr.frame()
    assert f["minima_crossed"].iloc[2:].tolist() == [3.0] * 4 and f["maxima_crossed"].iloc[2:].sum() == 0
    assert f["sign_flip_fraction"].iloc[1:].tolist() == [1.0] * 5


def test_zero_gradient_weights_still_move_with_momentum():
    model = Vec(2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with GradientTracker(model, opt) as tr:
        for g in ([1.0, 1.0], [0.0, 1.0], [0.0, 1.0]):
            model.w.grad = torch.tensor(g)
            opt.step()
    f = tr.frame()
    assert f["zero_grad_moved"].tolist()[1:] == [1.0, 1.0]  # component 0: g = 0, moved by momentum
    assert f["zero_grad_move_norm"].iloc[1] == pytest.approx(0.1 * 0.9)


def test_sign_record_codes_and_layer_boundaries():
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    tr = GradientTracker(model, torch.optim.SGD(model.parameters(), lr=0.1))
    model[0].weight.grad = torch.tensor([[1.0, -1e-6], [1e-6, 0.0]])
    model[1].weight.grad = torch.tensor([[-2.0, 3e-6]])
    tr.record_signs()
    codes, steps = tr.sign_record()
    assert codes.tolist() == [[0, 1, 2, 3, 0, 2]] and steps == [0]
    assert tr.layer_boundaries() == [("0", 0, 4), ("1", 4, 6)]


def test_per_layer_zero_counts():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    tr = GradientTracker(model, torch.optim.SGD(model.parameters(), lr=0.1))
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    model[1].weight.grad = torch.ones_like(model[1].weight)
    tr.update()
    assert tr.layer_frame().iloc[0].tolist() == [6, 1]  # layer 0: 4 weights + 2 biases; layer 1: the bias
    assert tr.to_dict()["layers"] == {"0": 6, "1": 3}


def test_detaches_cleanly_even_after_an_error(tmp_path):
    model = Vec(3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="boom"):
        with GradientTracker(model, opt, json_path=tmp_path / "h.json") as tr:
            model.w.grad = torch.ones(3)
            opt.step()
            assert len(opt._optimizer_step_post_hooks) == 1
            raise RuntimeError("boom")
    assert len(opt._optimizer_step_post_hooks) == 0 and not tr.attached
    opt.step()  # after detaching nothing is recorded
    assert tr.step == 1
    saved = json.loads((tmp_path / "h.json").read_text())  # flushed on detach
    assert saved["history"]["step"] == [0]


def test_buffers_pull_every_n_steps_and_write_json_and_tensorboard(tmp_path):
    model = Vec(4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tr = GradientTracker(model, opt, pull_every=3, json_path=tmp_path / "h.json", log_dir=tmp_path / "tb").attach()
    for _ in range(7):
        model.w.grad = torch.randn(4)
        opt.step()
    assert len(json.loads((tmp_path / "h.json").read_text())["history"]["step"]) == 6  # two pulls so far
    tr.detach()
    assert len(tr.frame()) == 7
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert len(acc.Scalars("optim/sign_flip_fraction")) == 6  # step 0 has no previous step


def test_tracker_callback_with_trainer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
    tr = GradientTracker(model, opt, pull_every=4)
    Trainer(model, opt, F.cross_entropy, data, callbacks=[TrackerCallback(tr)], progress=False).fit(2)
    assert tr.step == 10 and len(tr.frame()) == 10 and not tr.attached
    assert tr.sign_record()[0].shape == (2, tr.n)  # one row per epoch, all 58 components


def test_bad_arguments():
    model = Vec(2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError):
        GradientTracker(model, opt, zero_thresh=1e-3, low_thresh=1e-5)
    with pytest.raises(ValueError, match="no sign rows"):
        GradientTracker(model, opt).sign_record()
    tr = GradientTracker(model, opt).attach()
    with pytest.raises(RuntimeError, match="already attached"):
        tr.attach()
    tr.detach()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the compiled path is the CUDA default")
def test_compiled_step_matches_eager_on_cuda():
    torch.manual_seed(0)
    frames = []
    for compile_ in (False, True):
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)).cuda()
        torch.manual_seed(1)
        for p in model.parameters():
            p.data = torch.randn_like(p)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        g = torch.Generator(device="cuda").manual_seed(2)
        with GradientTracker(model, opt, compile=compile_) as tr:
            for _ in range(8):
                x = torch.randn(32, 8, device="cuda", generator=g)
                opt.zero_grad()
                (model(x) - x[:, :4]).square().mean().backward()
                opt.step()
        frames.append(tr.frame())
    eager, compiled = frames
    import numpy as np

    assert np.allclose(eager.to_numpy(), compiled.to_numpy(), rtol=1e-4, atol=1e-6, equal_nan=True)
    assert eager["sign_flip_fraction"].iloc[1:].gt(0).any() and eager["grad_norm"].gt(0).all()  # a live sequence


@pytest.mark.parametrize("threads", [1, None])
def test_eager_statistics_match_the_reference_function(threads):
    """The buffered CPU path (float masks, dot products, swapped buffers) against the plain
    reference ``step_statistics`` fed the same gradients and weights: counts exactly equal,
    norms to float32 rounding; also per-layer zero counts and the NaN pattern of early steps."""
    from nblib.dynamics.stepstats import step_statistics

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        model[0].bias.fill_(-0.5)  # some dead ReLUs: exact zero gradients
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    snapshots = []
    tr_threads_before = torch.get_num_threads()
    tr = GradientTracker(model, opt, pull_every=3, cpu_threads=threads).attach()
    opt.register_step_post_hook(lambda o, a, k: snapshots.append(
        ([p.grad.clone() for p in model.parameters()], [p.detach().clone() for p in model.parameters()])))
    gen = torch.Generator().manual_seed(1)
    for i in range(9):
        x = torch.randn(16, 8, generator=gen)
        opt.zero_grad()
        (model(x).square().mean() * (1e-6 if i == 4 else 1.0)).backward()  # step 4: many small gradients
        if i == 6:
            model[2].weight.grad[:5] = 0.0  # zero gradients while momentum still moves the weights
        opt.step()
    tr.detach()
    assert len(opt._optimizer_step_post_hooks) == 1
    ours, ours_layers = tr.frame(), tr.layer_frame().to_numpy()

    g0 = torch.cat([g.reshape(-1) for g in snapshots[0][0]])
    w0 = torch.cat([w.reshape(-1) for w in snapshots[0][1]])
    state = [g0.clone(), w0.clone(), torch.zeros_like(w0), g0.abs() < 1e-5, g0.clone(), w0.clone()]
    bounds = torch.tensor([0, *torch.tensor(tr.layer_sizes).cumsum(0).tolist()])
    rows, layers = [], []
    for grads, params in snapshots:
        row, layer_zero = step_statistics(grads, params, *state, bounds, 1e-7, 1e-5, 0.9)
        rows.append(row)
        layers.append(layer_zero)
    ref = torch.stack(rows).numpy()
    import numpy as np

    ref[:2, [SCALARS.index("minima_crossed"), SCALARS.index("maxima_crossed")]] = np.nan
    for k in ("low_grads", "released_fraction", "retained_fraction", "sign_flip_fraction", "weight_diff_norm",
              "zero_grad_moved", "zero_grad_move_norm"):
        ref[0, SCALARS.index(k)] = np.nan
    counts = [SCALARS.index(k) for k in ("zero_grads", "zero_grad_fraction", "low_grads", "released_fraction",
                                          "retained_fraction", "sign_flip_fraction", "minima_crossed",
                                          "maxima_crossed", "zero_grad_moved")]
    got = ours[list(SCALARS)].to_numpy()
    assert np.array_equal(got[:, counts], ref[:, counts], equal_nan=True)
    assert np.allclose(got, ref, rtol=1e-6, atol=0, equal_nan=True)
    assert np.array_equal(ours_layers, torch.stack(layers).numpy())
    assert got[:, SCALARS.index("zero_grads")].min() > 0 and np.nanmax(got[:, SCALARS.index("zero_grad_moved")]) > 0
    assert np.nanmax(got[:, SCALARS.index("minima_crossed")]) > 0 and got[4, SCALARS.index("low_grads")] >= 0
    assert torch.get_num_threads() == tr_threads_before  # the tracker restores torch's setting
