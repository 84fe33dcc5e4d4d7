"""Training throughput of notebook 05's loop and models against airbench94, in one run.

Baseline: airbench94's network and training procedure (``nblib.models.airbench``, after Keller
Jordan's cifar10-airbench) on the same machine and the same tensors (``load_cifar10``). Under
test: ``nblib.engine.fit_fast`` (device-resident data, channels_last, bf16 autocast on GPUs)
with the interpretable models of ``nblib.models.make_model``, at the same batch size. Reported:
training images per second (median over runs; whitening init included for airbench, evaluation
excluded for both), the ratio to airbench94, and test accuracies (airbench94 with its
test-time augmentation, our models without), mean +- std over runs.

    python benchmarks/bench_airbench.py --device cuda --runs 5      # the real measurement (GPU)
    python benchmarks/bench_airbench.py --smoke                      # seconds on a CPU: checks it runs
"""
from __future__ import annotations

import argparse
import statistics

import torch

from nblib import describe_device, device, set_seed
from nblib.data import load_cifar10
from nblib.models import make_model
from nblib.engine import train_airbench94
from nblib.models.airbench import HYP
from nblib.engine import fit_fast

MODELS = {
    "conjdisj": dict(kind="conjdisj"),
    "directional": dict(kind="directional"),
    "directional positive": dict(kind="directional", positive=True),
    "gumbel": dict(kind="gumbel"),
}


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} +- {statistics.stdev(values):.4f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--runs", type=int, default=3, help="seeds per configuration")
    ap.add_argument("--classes", default="all", help="'all' or comma-separated names, e.g. plane,car")
    ap.add_argument("--epochs", type=float, default=HYP["epochs"], help="epochs for every configuration")
    ap.add_argument("--batch-size", type=int, default=HYP["batch_size"])
    ap.add_argument("--models", default=",".join(MODELS), help=f"subset of: {', '.join(MODELS)}")
    ap.add_argument("--smoke", action="store_true", help="tiny configuration (1,024 images, 1 epoch, 1 run)")
    args = ap.parse_args()
    dev = device(args.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    classes = None if args.classes == "all" else tuple(args.classes.split(","))
    train, test = load_cifar10("train", classes=classes), load_cifar10("test", classes=classes)
    runs, epochs, batch = args.runs, args.epochs, args.batch_size
    if args.smoke:
        pick = torch.Generator().manual_seed(0)  # random subsets: the cache is sorted by class
        train = train.subset(torch.randperm(len(train), generator=pick)[:1024])
        test = test.subset(torch.randperm(len(test), generator=pick)[:512])
        runs, epochs, batch = 1, 1, 256
    n_classes = int(train.labels.max()) + 1
    names = [m.strip() for m in args.models.split(",")]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; choose from {list(MODELS)}")
    print(f"device: {describe_device(dev)}")
    print(f"data:   {train.describe()}")
    print(f"        {len(test):,} test images; {epochs} epochs, batch {batch}, {runs} run(s) each\n")

    # warm-up (cuDNN autotuning, allocator), not timed
    train_airbench94(train, test, epochs=min(1, epochs), batch_size=batch, device=dev, tta_level=0, progress=False)

    ref_ips, ref_acc, ref_acc_plain = [], [], []
    for seed in range(runs):
        r = train_airbench94(train, test, epochs=epochs, batch_size=batch, device=dev, seed=seed, progress=False)
        ref_ips.append(r.images_per_second)
        ref_acc.append(r.test_accuracy)
        ref_acc_plain.append(r.test_accuracy_no_tta)
    base = statistics.median(ref_ips)
    rows = [("airbench94 (baseline)", base, 1.0, _mean_std(ref_acc) + " (TTA); " + _mean_std(ref_acc_plain) + " (no TTA)")]

    for name in names:
        spec = dict(MODELS[name])
        kind = spec.pop("kind")
        set_seed(0)
        fit_fast(make_model(kind, n_classes, **spec), train, test, epochs=min(1, epochs), batch_size=batch,
                 device=dev, progress=False)  # warm-up
        ips, acc = [], []
        for seed in range(runs):
            set_seed(seed)
            r = fit_fast(make_model(kind, n_classes, **spec), train, test, epochs=epochs, batch_size=batch,
                         device=dev, seed=seed, progress=False)
            ips.append(r.images_per_second)
            acc.append(r.test_accuracy)
        rows.append((f"fit_fast + {name}", statistics.median(ips), statistics.median(ips) / base, _mean_std(acc)))

    print(f"{'configuration':32s} {'train images/s':>15s} {'ratio':>7s}  test accuracy")
    for name, ips, ratio, acc in rows:
        print(f"{name:32s} {ips:15,.0f} {ratio:6.2f}x  {acc}")
    print(f"\nairbench94 test accuracy on this data: {_mean_std(ref_acc)} with TTA "
          f"(reference: 94.01% on the original CIFAR-10 pixels, about 90.7% on the JPEG re-encoded copy)")


if __name__ == "__main__":
    main()
