"""Trainer: a one-epoch smoke test, metric known answers, and each callback."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nblib import load_checkpoint
from nblib.engine import CheckpointCallback, EpochStartAnalysis, MetricsLogger, Trainer, TrainerCallback, macro_f1


def batches(n=64, bs=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()  # 3 classes, learnable
    return [(x[i : i + bs], y[i : i + bs]) for i in range(0, n, bs)]


def make(callbacks=(), lr=0.1):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return Trainer(model, opt, F.cross_entropy, batches(), batches(seed=1), callbacks=callbacks, progress=False)


def test_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (200,), generator=g)
    p = torch.where(torch.rand(200, generator=g) < 0.6, y, torch.randint(0, 4, (200,), generator=g))
    cm = torch.bincount(y * 4 + p, minlength=16).view(4, 4)
    assert macro_f1(cm) == pytest.approx(f1_score(y.numpy(), p.numpy(), average="macro"))
    cm = torch.tensor([[5, 0, 0], [0, 0, 0], [1, 0, 4]])  # class 1 never seen nor predicted
    assert macro_f1(cm) == pytest.approx(f1_score([0] * 5 + [2] * 5, [0] * 5 + [0] + [2] * 4, average="macro"))


def test_one_epoch_smoke_and_learning():
    tr = make()
    first = tr.evaluate(batches(seed=1))
    hist = tr.fit(1)
    assert len(hist) == 1 and tr.step == 4 and tr.epoch == 1
    m = hist[0]
    assert set(m) >= {"epoch", "train_loss", "train_accuracy", "train_macro_f1", "valid_loss", "valid_accuracy"}
    tr.fit(20)
    assert tr.history[-1]["valid_loss"] < first["valid_loss"]
    assert tr.history[-1]["valid_accuracy"] > 0.7


def test_evaluate_restores_training_mode():
    tr = make()
    tr.model.train()
    tr.evaluate(batches())
    assert tr.model.training


def test_checkpoints_every_n_epochs_and_at_the_end(tmp_path):
    cb = CheckpointCallback(tmp_path, every=2)
    tr = make([cb])
    tr.fit(5)
    assert [p.name for p in cb.saved] == ["epoch001.pt", "epoch003.pt", "epoch004.pt"]
    fresh = make().model
    meta = load_checkpoint(cb.saved[-1], fresh)
    assert meta["epoch"] == 4 and meta["step"] == 20
    assert torch.equal(fresh[0].weight, tr.model[0].weight)


def test_epoch_start_analysis_runs_each_epoch_in_eval_mode():
    seen = []

    def analyse(trainer):
        seen.append((trainer.epoch, trainer.model.training, torch.is_grad_enabled()))
        return trainer.epoch * 10

    cb = EpochStartAnalysis(analyse)
    make([cb]).fit(3)
    assert [r[0] for r in cb.results] == [0, 1, 2, 3]  # before each epoch, and once at the end
    assert all(not training and not grad for _, training, grad in seen)


def test_metrics_logger_writes_tensorboard(tmp_path, capsys):
    make([MetricsLogger(log_dir=tmp_path)]).fit(2)
    assert "train_loss" in capsys.readouterr().out
    events = list(tmp_path.glob("events.out.tfevents.*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert {"loss/train", "loss/valid", "accuracy/valid", "macro_f1/train"} <= set(acc.Tags()["scalars"])
    assert len(acc.Scalars("loss/train")) == 2


def test_stop_flag_ends_training():
    class StopAfterFirstBatch(TrainerCallback):
        def on_batch_end(self, trainer):
            trainer.stop = True

    tr = make([StopAfterFirstBatch()])
    tr.fit(3)
    assert tr.step == 1 and len(tr.history) == 1
