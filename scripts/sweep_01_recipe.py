"""Recipe sweep for notebook 01 (issue #15): which training recipe makes the ARC slot autoencoder's
ReLU baseline converge (>= 0.90 cell accuracy on its 200 training grids, loss on a plateau) within
about 2 minutes of one CPU thread per run?

Each configuration trains the ReLU baseline (seed 0) on the notebook's 200 training grids and
measures, every 10% of its steps, the eval-mode loss and cell accuracy over all 200 training grids
(and the 100 held-out grids at the end). Rows are appended to ``results/01_recipe_sweep.csv``
(one per configuration) and the curves to ``results/01_recipe_sweep_curves.csv``.

    OMP_NUM_THREADS=1 NBLIB_DATA=... python scripts/sweep_01_recipe.py            # every configuration
    OMP_NUM_THREADS=1 NBLIB_DATA=... python scripts/sweep_01_recipe.py h64_lr2e-3  # some, by name

The committed CSVs hold the runs of issue #15 (2 CPU cores shared with other jobs; seconds per
step vary with the load). Result: peak rate 1e-3 beat 2e-3 and 4e-3; 64 channels beat 128 at equal
time; batch 8 beat batch 16 at equal time; no configuration came near 0.90 (the 3000-step run
reached 0.732). Notebook 01 section 3 shows the table and curves.
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import torch

from nblib.data import load_arc
from nblib.inspect.slots import cell_accuracy
from nblib.engine import train_slot_autoencoder
from nblib.models.arc_slots import ARCSlotAutoencoder, evaluate_slot_autoencoder, reconstruction_loss

ROOT = Path(__file__).resolve().parents[1]
BASE = dict(hidden=128, batch_size=16, steps=400, lr=4e-4, warmup=0, schedule="constant", final_lr_fraction=0.0,
            clip_norm=None)
SWEEP = {  # name: overrides of BASE (one or two changes at a time)
    "h64_lr2e-3": dict(hidden=64, steps=800, lr=2e-3, warmup=50, schedule="cosine", clip_norm=1.0),
    "h64_lr1e-3": dict(hidden=64, steps=800, lr=1e-3, warmup=50, schedule="cosine", clip_norm=1.0),
    "h64_lr4e-3": dict(hidden=64, steps=800, lr=4e-3, warmup=50, schedule="cosine", clip_norm=1.0),
    "h128_lr1e-3": dict(steps=400, lr=1e-3, warmup=50, schedule="cosine", clip_norm=1.0),      # 128 channels, same time
    "h64_b8_lr1e-3": dict(hidden=64, batch_size=8, steps=1600, lr=1e-3, warmup=100, schedule="cosine", clip_norm=1.0),
    "h64_lr1e-3_3000": dict(hidden=64, steps=3000, lr=1e-3, warmup=100, schedule="cosine", clip_norm=1.0),  # 4x longer
}


def full_loss_and_accuracy(model, onehot, colours, mask):
    """Eval-mode per-cell cross-entropy (nats, mean over all valid cells) and mean per-grid cell accuracy."""
    out, _ = evaluate_slot_autoencoder(model, onehot, mask)
    return reconstruction_loss(out.log_probs, colours, mask).item(), cell_accuracy(out.log_probs, colours, mask).mean().item()


def run(name: str, cfg: dict, train, held, seed: int = 0):
    torch.manual_seed(seed)
    model = ARCSlotAutoencoder(num_slots=7, hidden=cfg["hidden"], depth=3)
    x, c, m = train.onehot, train.colours, train.mask
    curve, every = [], max(1, cfg["steps"] // 10)
    eval_time = [0.0]

    def track(step, net):
        t = time.perf_counter()
        loss, acc = full_loss_and_accuracy(net, x, c, m)
        curve.append(dict(config=name, step=step, train_loss=loss, train_accuracy=acc))
        eval_time[0] += time.perf_counter() - t

    start = time.perf_counter()
    batch_losses = train_slot_autoencoder(model, x, c, m, steps=cfg["steps"], lr=cfg["lr"], batch_size=cfg["batch_size"],
                                          seed=seed, progress=False, callback=track, callback_every=every,
                                          warmup=cfg["warmup"], schedule=cfg["schedule"],
                                          final_lr_fraction=cfg["final_lr_fraction"], clip_norm=cfg["clip_norm"])
    train_s = time.perf_counter() - start - eval_time[0]
    _, held_acc = full_loss_and_accuracy(model, held.onehot, held.colours, held.mask)
    at90 = next(p for p in curve if p["step"] >= 0.9 * cfg["steps"])
    end = curve[-1]
    row = dict(config=name, **cfg, seconds_training=round(train_s, 1), s_per_step=round(train_s / cfg["steps"], 3),
               train_accuracy=round(end["train_accuracy"], 4), heldout_accuracy=round(held_acc, 4),
               train_loss=round(end["train_loss"], 4),
               loss_change_last_10pct=round((at90["train_loss"] - end["train_loss"]) / at90["train_loss"], 4),
               finite=bool(torch.isfinite(batch_losses).all()))
    return row, curve


def append(path: Path, rows: list[dict]):
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)


def main(names: list[str]):
    torch.set_num_threads(1)
    train = load_arc("train", n_grids=200, seed=0)
    held = load_arc("eval", n_grids=100, seed=0)
    for name in names or list(SWEEP):
        cfg = BASE | SWEEP[name]
        row, curve = run(name, cfg, train, held)
        print(row, flush=True)
        append(ROOT / "results" / "01_recipe_sweep.csv", [row])
        append(ROOT / "results" / "01_recipe_sweep_curves.csv", curve)


if __name__ == "__main__":
    main(sys.argv[1:])
