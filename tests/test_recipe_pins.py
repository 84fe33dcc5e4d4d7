"""Regression pins: every training recipe's loss after a few seeded steps, at today's value.

Issue #14 merges nblib's training loops into one engine and its shared helpers into one of
each; nothing may change a result on the way. Each recipe below runs a tiny seeded job on the
CPU (synthetic data, a few optimiser steps, well under a second) and its loss must equal the
value recorded before any refactoring, within float tolerance. ``test_a_pin_can_fail`` reruns
each recipe with its learning rate doubled and checks that the pin would notice: a pin that a
changed recipe still passes guards nothing.

When a pinned value changes on purpose (a bug fix that changes results), re-record it with
``python tests/test_recipe_pins.py`` and say why in the commit.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

REL, ABS = 1e-4, 1e-6  # float noise across CPUs and thread counts; an lr change moves far more


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _clusters(n_per_class=16, n_classes=3, dim=8, seed=0):
    """Gaussian clusters: (N, dim) float inputs and (N,) labels, class-major."""
    g = _generator(seed)
    centres = 2 * torch.randn(n_classes, dim, generator=g)
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    return centres[labels] + 0.5 * torch.randn(labels.shape[0], dim, generator=g), labels


def _images(n=32, seed=0):
    """uint8 (N, 3, 32, 32) images in 2 classes (class 1 is redder) as LabelledImages."""
    from nblib.data import LabelledImages

    g = _generator(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 120, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
    images[labels == 1, 0] += 120
    return LabelledImages(images, labels, "pin pattern", ("a", "b"))


def _toy_grids(n: int, seed: int):
    """ARC-like toy grids: (N, 10, 30, 30) one-hot, (N, 30, 30) colours and mask, random sizes 2..6."""
    g = _generator(seed)
    sizes = torch.randint(2, 7, (n, 2), generator=g)
    side = torch.arange(30)
    mask = (side[None, :, None] < sizes[:, 0, None, None]) & (side[None, None, :] < sizes[:, 1, None, None])
    colours = torch.randint(0, 10, (n, 30, 30), generator=g) * mask
    return F.one_hot(colours, 10).permute(0, 3, 1, 2).float() * mask[:, None], colours, mask


# ----------------------------------------------------------------------------- the recipes
def trainer_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.Trainer: MLP, SGD with a step schedule, 2 epochs of 3 batches -> last batch loss (step 6)."""
    from nblib.engine import Trainer

    x, y = _clusters()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 48, 16)]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1 * lr_scale, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    trainer = Trainer(model, opt, F.cross_entropy, batches, batches, scheduler=sched, progress=False)
    trainer.fit(2)
    assert trainer.step == 6
    return trainer.loss.item()


def fit_fast_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.fit_fast: tiny Gumbel model, 2 epochs of 2 batches -> mean train loss of epoch 2."""
    from nblib.models import make_model
    from nblib.engine import fit_fast

    torch.manual_seed(0)
    model = make_model("gumbel", 2, width=8, units_per_class=4)
    res = fit_fast(model, _images(32), epochs=2, batch_size=16, lr=1e-2 * lr_scale, progress=False)
    assert res.steps == 4
    return res.train_loss[-1]


def _airbench(lr_scale: float, n_train: int, epochs: float):
    """train_airbench94 on the pin images at ``lr_scale`` times its learning rate (fp32, CPU, no TTA)."""
    from nblib.engine import train_airbench94
    from nblib.models import airbench

    hyp = dict(airbench.HYP)
    airbench.HYP["lr"] = hyp["lr"] * lr_scale
    try:
        return train_airbench94(_images(n_train), _images(n_train // 2, seed=1), epochs=epochs, batch_size=16,
                                device="cpu", dtype=torch.float32, tta_level=0, seed=0, progress=False)
    finally:
        airbench.HYP.update(hyp)


def airbench_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.train_airbench94: 1 epoch of 2 batches of 16 -> mean train loss (fp32, CPU)."""
    res = _airbench(lr_scale, 32, 1)
    assert res.steps == 2
    return res.train_loss[-1]


def slot_autoencoder_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.train_slot_autoencoder: tiny model, 4 steps on 8 toy grids -> loss at step 4."""
    from nblib.engine import train_slot_autoencoder
    from nblib.models.arc_slots import ARCSlotAutoencoder

    onehot, colours, mask = _toy_grids(8, seed=0)
    torch.manual_seed(0)
    model = ARCSlotAutoencoder(num_slots=2, hidden=8, depth=1, slot_dim=8, decoder_hidden=8)
    losses = train_slot_autoencoder(model, onehot, colours, mask, steps=4, lr=3e-3 * lr_scale, batch_size=4,
                                    progress=False)
    return losses[-1].item()


def csvae_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.train_csvae: 2 latent layers, 2 epochs of 4 batches with a KL switch -> loss at step 8."""
    from nblib.models import CSVAE, KLSchedule
    from nblib.engine import train_csvae

    g = _generator(0)
    x = (torch.rand(64, 64, generator=g) > 0.7).float()
    x_eval = (torch.rand(16, 64, generator=g) > 0.7).float()
    torch.manual_seed(0)
    model = CSVAE(64, latent_dims=(3, 4), hidden_dim=32, decoder_hidden=(32,))
    hist = train_csvae(model, x, x_eval, epochs=2, batch_size=16, lr=1e-2 * lr_scale,
                       kl_schedule=KLSchedule("switch", start_epoch=1), progress=False)
    assert hist.step_loss.shape == (8,)
    return hist.step_loss[-1].item()


def fit_hashing_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.fit_hashing: a growing head over a trained linear backbone, 2 epochs of 3 batches
    -> mean loss of epoch 2."""
    from nblib.layers.hashing import IncrementalNeuralHashing
    from nblib.engine import fit_hashing

    x, y = _clusters()
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
    head = IncrementalNeuralHashing(16, 3, lr=0.05 * lr_scale)
    opt = torch.optim.Adam(backbone.parameters(), lr=1e-2 * lr_scale)
    history = fit_hashing(head, x, y, epochs=2, batch_size=16, encode=backbone, backbone_optimizer=opt,
                          progress=False)
    return history[-1]["loss"]


def linear_probe_recipe(lr_scale: float = 1.0) -> float:
    """nblib.engine.fit_linear_probe: 3 epochs of 3 batches -> cross-entropy of the probe on all inputs."""
    from nblib.engine import fit_linear_probe

    x, y = _clusters()
    probe = fit_linear_probe(x, y, 3, epochs=3, batch_size=16, lr=1e-2 * lr_scale)
    with torch.no_grad():
        return F.cross_entropy(probe(x), y).item()


def doctor_recipe(lr_scale: float = 1.0) -> float:
    """nblib.doctor.training.train_copy: 5 Adam steps on a copy under the GradientTracker -> loss at step 5."""
    from nblib.doctor.training import train_copy

    x, y = _clusters()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    run = train_copy(model, x, y, steps=5, lr=1e-2 * lr_scale, batch_size=16, progress=False)
    return run.losses[-1]


def airbench_ema_recipe(lr_scale: float = 1.0) -> float:
    """train_airbench94 past its Lookahead start: 4.5 epochs of 4 batches of 16 (the EMA from epoch 3 every
    5 steps, the whitening bias frozen from epoch 3, odd epochs flipped) -> test accuracy + last epoch's loss."""
    res = _airbench(lr_scale, 64, 4.5)
    assert res.steps == 18 and len(res.train_loss) == 5
    return res.train_loss[-1] + res.test_accuracy


def fit_fast_fraction_recipe(lr_scale: float = 1.0) -> float:
    """fit_fast for 1.5 epochs (a fractional last epoch) with a test curve -> loss of the last epoch + curve."""
    from nblib.models import make_model
    from nblib.engine import fit_fast

    torch.manual_seed(0)
    model = make_model("directional", 2, width=8, units_per_class=4)
    res = fit_fast(model, _images(64), _images(32, seed=1), epochs=1.5, batch_size=16, lr=1e-2 * lr_scale,
                   eval_every_epoch=True, progress=False)
    assert res.steps == 6 and len(res.test_accuracy_history) == 2
    return res.train_loss[-1] + sum(res.test_accuracy_history)


def csvae_cosine_recipe(lr_scale: float = 1.0) -> float:
    """train_csvae with a cosine schedule and the mean reconstruction -> last loss + last gradient norm."""
    from nblib.models import CSVAE, KLSchedule
    from nblib.engine import train_csvae

    g = _generator(1)
    x = (torch.rand(48, 64, generator=g) > 0.7).float()
    torch.manual_seed(0)
    model = CSVAE(64, latent_dims=(3, 4), hidden_dim=32, decoder_hidden=(32,))
    hist = train_csvae(model, x, x[:16], epochs=3, batch_size=16, lr=1e-2 * lr_scale, cosine_lr=True,
                       recon_reduction="mean", kl_schedule=KLSchedule("linear", start_epoch=0, warmup_epochs=2), progress=False)
    return hist.step_loss[-1].item() + hist.step_grad_norm[-1].item() + hist.step_batch_mean_mu[1][-1].sum().item()


def trainer_stop_recipe(lr_scale: float = 1.0) -> float:
    """Trainer whose callback stops after the 5th step (mid-epoch) -> last loss + validation loss."""
    from nblib.engine import Trainer, TrainerCallback

    class StopAtFive(TrainerCallback):
        def on_batch_end(self, trainer):
            trainer.stop = trainer.step >= 5

    x, y = _clusters()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 48, 16)]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.02 * lr_scale)
    trainer = Trainer(model, opt, F.cross_entropy, batches, batches, callbacks=[StopAtFive()], progress=False)
    history = trainer.fit(4)
    assert trainer.step == 5 and trainer.epoch == 2 and len(history) == 2
    return trainer.loss.item() + history[-1]["valid_loss"]


def fit_hashing_frozen_recipe(lr_scale: float = 1.0) -> float:
    """fit_hashing on fixed representations (no backbone), 3 epochs -> the history's losses and slots."""
    from nblib.layers.hashing import IncrementalNeuralHashing
    from nblib.engine import fit_hashing

    x, y = _clusters(seed=2)
    torch.manual_seed(0)
    head = IncrementalNeuralHashing(8, 3, lr=0.05 * lr_scale)
    history = fit_hashing(head, x, y, epochs=3, batch_size=16, progress=False)
    return sum(h["loss"] for h in history) + 1e-3 * sum(h["slots"] + h["added"] + h["pruned"] for h in history)


def slot_autoencoder_scheduled_recipe(lr_scale: float = 1.0) -> float:
    """train_slot_autoencoder with notebook 01's recipe options: warm-up, cosine decay, clipping, a callback
    every 2 steps (eval mode), 6 steps -> sum of the losses + the callback's readings."""
    from nblib.engine import train_slot_autoencoder
    from nblib.models.arc_slots import ARCSlotAutoencoder

    onehot, colours, mask = _toy_grids(12, seed=1)
    torch.manual_seed(0)
    model = ARCSlotAutoencoder(num_slots=2, hidden=8, depth=1, slot_dim=8, decoder_hidden=8)
    seen = []
    losses = train_slot_autoencoder(model, onehot, colours, mask, steps=6, lr=3e-3 * lr_scale, batch_size=4, progress=False,
                                    warmup=2, schedule="cosine", final_lr_fraction=0.1, clip_norm=0.5,
                                    callback=lambda step, m: seen.append(step + float(m.encoder.blocks[0].conv.weight.sum())),
                                    callback_every=2)
    assert len(seen) == 3
    return losses.sum().item() + sum(seen)


RECIPES = {
    "trainer": trainer_recipe,
    "fit_fast": fit_fast_recipe,
    "train_airbench94": airbench_recipe,
    "train_slot_autoencoder": slot_autoencoder_recipe,
    "train_csvae": csvae_recipe,
    "fit_hashing": fit_hashing_recipe,
    "fit_linear_probe": linear_probe_recipe,
    "doctor_train_copy": doctor_recipe,
    "train_airbench94_lookahead": airbench_ema_recipe,
    "fit_fast_fractional_with_curve": fit_fast_fraction_recipe,
    "train_csvae_cosine": csvae_cosine_recipe,
    "trainer_stop": trainer_stop_recipe,
    "fit_hashing_frozen": fit_hashing_frozen_recipe,
    "train_slot_autoencoder_scheduled": slot_autoencoder_scheduled_recipe,
}

#: today's values (recorded on commit 8a863f8's code, CPU, float32)
PINS = {
    "trainer": 0.21170498430728912,
    "fit_fast": 0.4892520308494568,
    "train_airbench94": 0.6580599546432495,
    "train_slot_autoencoder": 2.337575674057007,
    "train_csvae": 40.974761962890625,
    "fit_hashing": 0.4421236515045166,
    "fit_linear_probe": 0.7246994376182556,
    "doctor_train_copy": 0.9413410425186157,
    # the paths the first pins did not reach, recorded on commit 08ae7fe's code (before the engine)
    "train_airbench94_lookahead": 1.3330096304416656,
    "fit_fast_fractional_with_curve": 2.121499016880989,
    "train_csvae_cosine": 1.1407358050346375,
    "trainer_stop": 2.087618887424469,
    "fit_hashing_frozen": 0.26343627508481343,
    # notebook 01's recipe options (issue #15), recorded on cf7fd8d's loop before it moved onto the engine
    "train_slot_autoencoder_scheduled": 24.891238033771515,
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_recipe_loss_is_pinned(name):
    assert RECIPES[name]() == pytest.approx(PINS[name], rel=REL, abs=ABS)


@pytest.mark.parametrize("name", list(RECIPES))
def test_a_pin_can_fail(name):
    assert RECIPES[name](lr_scale=2.0) != pytest.approx(PINS[name], rel=REL, abs=ABS)


if __name__ == "__main__":  # re-record: python tests/test_recipe_pins.py
    for recipe_name, recipe in RECIPES.items():
        print(f"    {recipe_name!r}: {recipe()!r},")
