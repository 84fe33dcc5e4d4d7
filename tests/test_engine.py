"""The training engine: the loop against a hand-written one, event order, cancellation, meters, the scalar logger."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nblib.engine import (Callback, CancelBatch, CancelEpoch, CancelFit, GradClip, Learner, LossMeter, ScalarLogger,
                          Scheduler, StepLosses, Timer)


def data(n=48, bs=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, n, bs)]


def model_and_opt(seed=0, lr=0.1):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name in ("before_fit", "before_epoch", "before_batch", "after_loss", "after_backward", "after_step",
                    "after_batch", "after_epoch", "after_fit", "cleanup"):
            return lambda learner: object.__getattribute__(self, "events").append(name)
        return object.__getattribute__(self, name)


def test_the_loop_equals_a_hand_written_one():
    batches = data()
    ref, ref_opt = model_and_opt()
    sched = torch.optim.lr_scheduler.StepLR(ref_opt, 3, 0.5)
    ref_losses = []
    for _ in range(3):
        for x, y in batches:
            loss = F.cross_entropy(ref(x), y)
            ref_opt.zero_grad()
            loss.backward()
            ref_opt.step()
            sched.step()
            ref_losses.append(loss.item())
    model, opt = model_and_opt()
    learner = Learner(model, opt, batches, F.cross_entropy,
                      callbacks=[Scheduler(torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)), StepLosses(12)]).fit(3)
    assert learner.step == 12 and learner.epoch == 3
    assert torch.allclose(learner.step_losses, torch.tensor(ref_losses))
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_events_come_in_order():
    rec = Recorder()
    Learner(*model_and_opt(), data(n=24), F.cross_entropy, callbacks=[rec]).fit(2)
    batch = ["before_batch", "after_loss", "after_backward", "after_step", "after_batch"]
    epoch = ["before_epoch", *batch, *batch, "after_epoch"]
    assert rec.events == ["before_fit", *epoch, *epoch, "after_fit", "cleanup"]


def test_callbacks_run_by_order_then_as_given():
    seen = []

    def cb(tag, order):
        c = Callback()
        c.order = order
        c.before_fit = lambda learner: seen.append(tag)
        return c

    Learner(*model_and_opt(), data(), F.cross_entropy, callbacks=[cb("b", 5), cb("a", 0), cb("c", 5), cb("t", -1)]).fit(1)
    assert seen == ["t", "a", "b", "c"]


def test_max_steps_stops_mid_epoch_and_fit_continues():
    learner = Learner(*model_and_opt(), data(), F.cross_entropy, max_steps=6)
    learner.fit(5)
    assert learner.step == 6 and learner.epoch == 2  # 4 steps, then 2 of the second epoch
    learner.max_steps = None
    learner.fit(1)
    assert learner.step == 10 and learner.epoch == 3


def test_cancel_batch_before_backward_changes_nothing():
    class SkipAll(Callback):
        def after_loss(self, learner):
            raise CancelBatch

    model, opt = model_and_opt()
    before = [p.clone() for p in model.parameters()]
    learner = Learner(model, opt, data(), F.cross_entropy, callbacks=[SkipAll()]).fit(2)
    assert learner.step == 0 and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_cancel_epoch_and_cancel_fit():
    class EndEpochAfterTwo(Callback):
        def after_batch(self, learner):
            if learner.iter == 1:
                raise CancelEpoch

    learner = Learner(*model_and_opt(), data(), F.cross_entropy, callbacks=[EndEpochAfterTwo()]).fit(3)
    assert learner.step == 6 and learner.epoch == 3

    class StopAtFive(Callback):
        def after_step(self, learner):
            if learner.step == 4:  # before the increment: the fifth step
                raise CancelFit

    rec = Recorder()
    learner = Learner(*model_and_opt(), data(), F.cross_entropy, callbacks=[StopAtFive(), rec]).fit(3)
    assert learner.step == 4  # the fifth step's increment never ran
    assert rec.events[-2:] == ["after_fit", "cleanup"]


def test_cleanup_runs_when_training_fails():
    closed = []

    class Boom(Callback):
        def after_backward(self, learner):
            raise RuntimeError("boom")

        def cleanup(self, learner):
            closed.append(True)

    with pytest.raises(RuntimeError, match="boom"):
        Learner(*model_and_opt(), data(), F.cross_entropy, callbacks=[Boom()]).fit(1)
    assert closed == [True]


def test_a_callable_optimiser_list_is_asked_every_step():
    model, opt = model_and_opt()
    asked = []

    def opts():
        asked.append(1)
        return [opt]

    Learner(model, opts, data(), F.cross_entropy).fit(1)
    assert len(asked) == 4


def test_loss_meter_is_the_size_weighted_mean_read_once_per_epoch(monkeypatch):
    batches = data(n=40, bs=12)  # sizes 12, 12, 12, 4
    model, opt = model_and_opt()
    steps = StepLosses(4)
    reads = []
    item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: reads.append(1) or item(t))
    learner = Learner(model, opt, batches, F.cross_entropy, callbacks=[LossMeter(), steps]).fit(1)
    monkeypatch.undo()
    sizes = torch.tensor([12.0, 12, 12, 4])
    assert learner.epoch_loss[0] == pytest.approx(float((learner.step_losses * sizes).sum() / 40), rel=1e-6)
    assert len(reads) == 1, "one host read per epoch, not per step"


def test_grad_clip_bounds_the_norm_and_records_the_raw_one():
    model, opt = model_and_opt(lr=0.0)
    clip = GradClip(max_norm=1e-3, record=True)

    class Check(Callback):
        order = 1

        def after_backward(self, learner):
            total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in learner.model.parameters()]))
            assert total <= 1e-3 * (1 + 1e-4)

    Learner(model, opt, data(), F.cross_entropy, callbacks=[clip, Check()]).fit(1)
    assert len(clip.norms) == 4 and all(n > 1e-3 for n in clip.norms)


def test_timer_counts_training_epochs():
    learner = Learner(*model_and_opt(), data(), F.cross_entropy, callbacks=[Timer()]).fit(2)
    assert 0 < learner.train_seconds < 60


def test_needs_a_loss():
    with pytest.raises(ValueError, match="loss_func"):
        Learner(*model_and_opt(), data())


def test_scalar_logger_writes_tensorboard_and_keeps_history(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with ScalarLogger(tmp_path) as log:
        log.scalars({"loss/train": torch.tensor(0.5), "acc": 0.9, "name": "x", "flag": True}, step=1)
        log.scalar("loss/train", float("nan"), step=2)  # skipped
        log.scalar("loss/train", 0.25, step=3)
        log.histogram("w", torch.randn(100), step=3)
    assert log.history["loss/train"] == [(1, 0.5), (3, 0.25)] and set(log.history) == {"loss/train", "acc"}
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [e.value for e in acc.Scalars("loss/train")] == [0.5, 0.25]
    assert "w" in acc.Tags()["histograms"]


def test_scalar_logger_without_folder_or_writes_leaves_no_file(tmp_path):
    ScalarLogger().scalar("a", 1.0, 0)
    log = ScalarLogger(tmp_path / "never")
    log.close()
    assert not (tmp_path / "never").exists()


def test_random_batches_reproduce_a_hand_written_loop():
    from nblib.engine import random_batches

    x, y = torch.cat([b[0] for b in data()]), torch.cat([b[1] for b in data()])
    ref, ref_opt = model_and_opt()
    sched = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.1, total_steps=7)
    g = torch.Generator().manual_seed(3)
    ref_losses = torch.zeros(7)
    for step in range(7):  # notebook 00's loop before issue #14
        idx = torch.randint(0, x.shape[0], (10,), generator=g)
        loss = F.cross_entropy(ref(x[idx]), y[idx])
        ref_opt.zero_grad(set_to_none=True)
        loss.backward()
        ref_opt.step()
        sched.step()
        ref_losses[step] = loss.detach()
    model, opt = model_and_opt()
    learner = Learner(model, opt, random_batches(x, y, 10, torch.Generator().manual_seed(3)), F.cross_entropy,
                      max_steps=7, callbacks=[Scheduler(torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=7)),
                                              StepLosses(7)]).fit(1)
    assert torch.equal(learner.step_losses, ref_losses)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), ref.parameters()))


def test_shuffled_batches_reproduce_a_hand_written_loop():
    from nblib.engine import shuffled_batches

    x, y = torch.cat([b[0] for b in data()]), torch.cat([b[1] for b in data()])
    ref, ref_opt = model_and_opt()
    g = torch.Generator().manual_seed(5)
    for _ in range(3):  # notebook 06's CNN loop before issue #14: full batches of a fresh permutation
        perm = torch.randperm(x.shape[0], generator=g)
        for i in range(0, x.shape[0] - 20 + 1, 20):
            idx = perm[i:i + 20]
            loss = F.cross_entropy(ref(x[idx]), y[idx])
            ref_opt.zero_grad()
            loss.backward()
            ref_opt.step()
    model, opt = model_and_opt()
    learner = Learner(model, opt, shuffled_batches(x, y, 20, torch.Generator().manual_seed(5)), F.cross_entropy).fit(3)
    assert learner.step == 6  # 48 examples: 2 full batches of 20 per epoch, 8 left out
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), ref.parameters()))
    with pytest.raises(ValueError, match="exceeds"):
        shuffled_batches(x, y, 100, g)
