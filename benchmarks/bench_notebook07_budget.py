"""Equal CPU-time budgets for notebook 07: training cost of its candidates and of airbench94.

Notebook 07 gives every model the same training time (``budget_seconds``) by fixing each model's epochs
(``budget_epochs``, ``airbench_epochs``) in its parameters cell, so that reruns stay deterministic. A run's
training time is ``ceil(epochs) * per_epoch + epochs * 50,000 / rate``: a fixed cost per epoch (the loader
augments the whole training set at the start of each epoch) and a per-image cost. A single short run
charges the fixed cost to a few images and underestimates the rate several-fold (this script did that
before: 204 images/s for the directional model instead of about 870), so each model is timed at two
lengths within one epoch and both costs are solved for. Run it on the machine (and the load) the notebook
will run on:

    OMP_NUM_THREADS=1 python benchmarks/bench_notebook07_budget.py --threads 1 --seconds 150
"""
from __future__ import annotations

import torch

from nblib.data import load_cifar10
from nblib.models import SimpleCNN, make_model, make_multiscale_model
from nblib.timing import benchmark_parser, start_benchmark
from nblib.engine import fit_fast, train_airbench94

CANDIDATES = {  # the notebook's candidates (section 2)
    "directional": lambda: make_model("directional", 10),
    "directional +pos": lambda: make_model("directional", 10, positive=True),
    "directional +pos, 120 units/class": lambda: make_model("directional", 10, positive=True, units_per_class=120),
    "multi-scale +pos": lambda: make_multiscale_model(10, ("global", "window", "local"), positive=True),
    "ensemble +pos": lambda: make_multiscale_model(10, ("global", "global"), positive=True, shared_conv1=False),
    "standard CNN": lambda: SimpleCNN(10),
}


def epochs_for(budget: float, per_epoch: float, rate: float, n: int) -> float:
    """Epochs whose training time ``ceil(e) * per_epoch + e * n / rate`` is ``budget`` seconds."""
    for k in range(1, 1000):
        e = (budget - k * per_epoch) * rate / n
        if e <= 0:
            return 0.0
        if e <= k:
            return e
    raise ValueError("budget too large")


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seconds", type=float, default=150.0, help="training seconds per run to budget for")
    parser.add_argument("--images", type=int, nargs=2, default=(2560, 10240),
                        help="training images of the short and the long timing run (both within one epoch)")
    parser.add_argument("--models", nargs="*", default=None, help="time only these (default: all, and airbench94)")
    args, dev = start_benchmark(parser)
    torch.set_num_threads(args.threads)
    train = load_cifar10("train")
    n = len(train)
    short, long = args.images
    costs = {}

    def fit(name: str, images: int) -> float:
        torch.manual_seed(0)
        if name == "airbench94":
            r = train_airbench94(train, train.subset(torch.arange(256)), epochs=images / n, batch_size=256,
                                 device=dev, tta_level=0, progress=False)
        else:
            r = fit_fast(CANDIDATES[name](), train, None, epochs=images / n, device=dev, progress=False)
        return r.train_seconds

    fit("directional", 1024)  # warm-up: the process's first training run pays one-off start-up costs
    for name in args.models or [*CANDIDATES, "airbench94"]:
        t1, t2 = fit(name, short), fit(name, long)
        rate = (long - short) / max(t2 - t1, 1e-9)
        per_epoch = max(t1 - short / rate, 0.0)
        costs[name] = (per_epoch, rate)
        print(f"{name:36s} {rate:8.0f} training images/s, {per_epoch:5.1f} s per epoch fixed "
              f"({short}: {t1:.1f} s, {long}: {t2:.1f} s)", flush=True)
    epochs = {k: round(epochs_for(args.seconds, f, r, n), 2) for k, (f, r) in costs.items()}
    print(f"\nbudget_seconds = {args.seconds:g}")
    print("budget_epochs = {" + ", ".join(f'"{k}": {v}' for k, v in epochs.items() if k != "airbench94") + "}")
    if "airbench94" in epochs:
        print(f"airbench_epochs = {epochs['airbench94']}")


if __name__ == "__main__":
    main()
