"""Equal CPU-time budgets for notebook 07: training throughput of its candidates and of airbench94.

Notebook 07 gives every model the same training time (``budget_seconds``) by fixing each model's epochs
(``budget_epochs``, ``airbench_epochs``) in its parameters cell, so that reruns stay deterministic. This
measures each candidate's training images per second with ``fit_fast`` (and airbench94 with its own loop)
on the CIFAR-10 training set, on the threads given, and prints the parameter lines for a chosen budget.
Run it on the machine (and the load) the notebook will run on:

    OMP_NUM_THREADS=1 python benchmarks/bench_notebook07_budget.py --threads 1 --seconds 150
"""
from __future__ import annotations

import torch

from nblib.data import load_cifar10
from nblib.models import SimpleCNN, make_model, make_multiscale_model
from nblib.models.airbench import train_airbench94
from nblib.timing import benchmark_parser, start_benchmark
from nblib.train_fast import fit_fast

CANDIDATES = {  # the notebook's candidates (section 2)
    "directional": lambda: make_model("directional", 10),
    "directional +pos": lambda: make_model("directional", 10, positive=True),
    "directional +pos, 120 units/class": lambda: make_model("directional", 10, positive=True, units_per_class=120),
    "multi-scale +pos": lambda: make_multiscale_model(10, ("global", "window", "local"), positive=True),
    "ensemble +pos": lambda: make_multiscale_model(10, ("global", "global"), positive=True, shared_conv1=False),
    "standard CNN": lambda: SimpleCNN(10),
}


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seconds", type=float, default=150.0, help="training seconds per run to budget for")
    parser.add_argument("--images", type=int, default=5120, help="training images per measurement")
    args, dev = start_benchmark(parser)
    torch.set_num_threads(args.threads)
    train = load_cifar10("train")
    n = len(train)
    rates = {}
    for name, build in CANDIDATES.items():
        torch.manual_seed(0)
        r = fit_fast(build(), train, None, epochs=args.images / n, device=dev, progress=False)
        rates[name] = r.images_per_second
        print(f"{name:36s} {rates[name]:8.0f} training images/s", flush=True)
    r = train_airbench94(train, train.subset(torch.arange(256)), epochs=max(args.images, 2048) / n, batch_size=256,
                         device=dev, tta_level=0, progress=False)
    rates["airbench94"] = r.images_per_second
    print(f"{'airbench94 (batch 256)':36s} {rates['airbench94']:8.0f} training images/s (whitening included)\n")
    epochs = {k: round(args.seconds * v / n, 2) for k, v in rates.items()}
    print(f"budget_seconds = {args.seconds:g}")
    print("budget_epochs = {" + ", ".join(f'"{k}": {v}' for k, v in epochs.items() if k != "airbench94") + "}")
    print(f"airbench_epochs = {epochs['airbench94']}")


if __name__ == "__main__":
    main()
