"""Slot-attention autoencoder speed, as ratios against a baseline measured in the same run.

1. SlotAttention on a batch of 32 ARC-sized inputs (900 positions x 128 features) against the same
   module called once per sample in a Python loop: the speed-up of batching (same answer).
2. A training step of the ARC slot autoencoder on 16 grids: batches of similar-sized grids cropped
   to their extent (what ``train_slot_autoencoder`` does) against the same grids on the full
   30 x 30 canvas: the speed-up of cropping.

    python benchmarks/bench_slot_attention.py [--device cuda]
"""
from __future__ import annotations


import torch

from nblib.data import load_arc
from nblib.models.arc_slots import ARCSlotAutoencoder, bucketed_batches, reconstruction_loss
from nblib.models.slot_attention import SlotAttention
from nblib.timing import benchmark_parser, median_time, start_benchmark


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    args, dev = start_benchmark(ap)

    sa = SlotAttention(num_slots=7, input_dim=128, slot_dim=64).to(dev).eval()
    x = torch.randn(32, 900, 128, device=dev)
    noise = torch.randn(32, 7, 64, device=dev)
    sa.initial_slots = lambda b, k, generator=None: sa.slots_mu + sa.slots_log_sigma.exp() * noise[:b]  # same init both ways

    def batched():
        return sa(x)[0]

    def looped():
        out = []
        for i in range(x.shape[0]):  # the baseline: one sample at a time
            sa.initial_slots = lambda b, k, generator=None, i=i: sa.slots_mu + sa.slots_log_sigma.exp() * noise[i:i + 1]
            out.append(sa(x[i:i + 1])[0])
        sa.initial_slots = lambda b, k, generator=None: sa.slots_mu + sa.slots_log_sigma.exp() * noise[:b]
        return torch.cat(out)

    with torch.no_grad():
        err = (batched() - looped()).abs().max().item()
        t_batch, t_loop = median_time(batched, dev), median_time(looped, dev, repeats=3)
    print("[1] SlotAttention, 32 samples x 900 positions x 128 features, 7 slots, 3 iterations")
    print(f"    per-sample loop {t_loop * 1e3:8.2f} ms | batched {t_batch * 1e3:8.2f} ms | "
          f"speed-up {t_loop / t_batch:.1f}x | max |difference| {err:.1e}\n")

    grids = load_arc("train", n_grids=200).to(dev)
    model = ARCSlotAutoencoder(depth=3).to(dev).train()
    heights, widths = grids.mask.any(2).sum(1).cpu(), grids.mask.any(1).sum(1).cpu()
    batches = bucketed_batches(heights * widths, 16, generator=torch.Generator().manual_seed(0))
    onehot = grids.onehot

    def step(i, crop):
        idx = batches[i % batches.shape[0]]
        h, w = (int(heights[idx].max()), int(widths[idx].max())) if crop else (30, 30)
        idx = idx.to(dev)
        out = model(onehot[idx, :, :h, :w], grids.mask[idx, :h, :w])
        reconstruction_loss(out.log_probs, grids.colours[idx, :h, :w], grids.mask[idx, :h, :w]).backward()
        model.zero_grad(set_to_none=True)

    def epoch(crop):
        for i in range(batches.shape[0]):
            step(i, crop)

    t_crop, t_full = median_time(lambda: epoch(True), dev, repeats=3, warmup=1), median_time(lambda: epoch(False), dev, repeats=3, warmup=1)
    area = (heights[batches].amax(1) * widths[batches].amax(1)).float().mean().item() / 900
    print(f"[2] ARC slot autoencoder (depth 3, 128 channels), forward + backward over {batches.shape[0]} batches of 16 grids")
    print(f"    full 30x30 canvas {t_full * 1e3:8.1f} ms | size-bucketed, cropped {t_crop * 1e3:8.1f} ms "
          f"(mean crop {area:.0%} of the canvas) | speed-up {t_full / t_crop:.1f}x")


if __name__ == "__main__":
    main()
