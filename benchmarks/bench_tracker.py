"""Training-step time with the GradientTracker attached against the same step without it.

SimpleCNN (1.1M parameters) on CIFAR-sized random batches, SGD with momentum; the ratio is
measured in one run for several batch sizes. Also the tracker's memory: its O(parameters)
state in bytes against the parameters' own.

    python benchmarks/bench_tracker.py [--device cuda]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from nblib import describe_device, device
from nblib.gradients import GradientTracker
from nblib.models import SimpleCNN
from nblib.timing import median_time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=20, help="training steps per timed call")
    args = ap.parse_args()
    dev = device(args.device)
    torch.manual_seed(0)
    model = SimpleCNN().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"device: {describe_device(dev)}; SimpleCNN, {n_params:,} parameters, {args.steps} steps per timing\n")
    batches = (128, 512) if dev.type == "cuda" else (128,)
    for bs in batches:
        x, y = torch.randn(bs, 3, 32, 32, device=dev), torch.randint(0, 10, (bs,), device=dev)

        def steps():
            for _ in range(args.steps):
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

        plain = median_time(steps, dev, repeats=5, warmup=1)
        tracker = GradientTracker(model, opt, pull_every=50).attach()
        tracked = median_time(steps, dev, repeats=5, warmup=1)
        tracker.detach()
        print(f"batch {bs:4d}: step {plain / args.steps * 1e3:7.2f} ms | with tracker {tracked / args.steps * 1e3:7.2f} ms"
              f" | ratio {tracked / plain:.2f}")
    state = sum(t.numel() * t.element_size() for t in (tracker._prev_g, tracker._prev_w, tracker._prev_dw,
                                                         tracker._ema_g, tracker._ema_w, tracker._prev_low))
    print(f"\ntracker state: {state / 2**20:.1f} MiB = {state / (n_params * 4):.2f}x the float32 parameters "
          f"(plus two flat copies per step while it runs)")


if __name__ == "__main__":
    main()
