"""Inspector and statistics speed, as ratios against a baseline measured in the same run.

1. Forward pass of ResNet-18 with 8 layers captured (clones kept on the device) against the
   same forward pass without hooks: the overhead ratio.
2. Spatial diversity by the closed form (O(positions x C)) against the explicit
   positions x positions cosine matrix: the speed-up ratio (and the same answer).
3. Dead-channel census by ChannelAccumulator (O(C) state, streamed) against concatenating
   every batch and reducing once: the time ratio, and the memory each keeps.

    python benchmarks/bench_inspect.py [--device cuda]
"""
from __future__ import annotations


import torch

from nblib.inspect import ChannelAccumulator, Inspector, dead_channels, spatial_diversity
from nblib.models import RESNET_LAYERS, FrameResNet18
from nblib.timing import benchmark_parser, median_time, start_benchmark


def explicit_diversity(x: torch.Tensor) -> torch.Tensor:
    """Reference: build each sample's cosine matrix between non-zero positions."""
    out = []
    for sample in x.flatten(2):  # (C, P)
        keep = sample.norm(dim=0) > 0
        u = torch.nn.functional.normalize(sample[:, keep], dim=0)
        sim = u.t() @ u
        n = sim.shape[0]
        out.append(1 - (sim.sum() - sim.diagonal().sum()) / (n * (n - 1)))
    return torch.stack(out)


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    args, dev = start_benchmark(ap)
    batch = 64 if dev.type == "cuda" else 16

    model = FrameResNet18().to(dev).eval()
    x = torch.rand(batch, 1, 64, 64, device=dev)
    with torch.no_grad():
        plain = median_time(lambda: model(x), dev)
        insp = Inspector(model, list(RESNET_LAYERS))
        with insp:
            hooked = median_time(lambda: model(x), dev)
    print(f"[1] ResNet-18 forward, {batch} frames 64x64, 8 layers captured")
    print(f"    no hooks {plain * 1e3:8.2f} ms | inspector {hooked * 1e3:8.2f} ms | overhead ratio {hooked / plain:.2f}x\n")

    acts = torch.relu(torch.randn(8, 128, 30, 30, device=dev))  # ARC-encoder sized: 900 positions
    fast = median_time(lambda: spatial_diversity(acts), dev)
    slow = median_time(lambda: explicit_diversity(acts), dev, repeats=3, warmup=1)
    err = (spatial_diversity(acts) - explicit_diversity(acts)).abs().max().item()
    print("[2] spatial diversity, 8 samples x 128 channels x 30x30 positions")
    print(f"    cosine matrix {slow * 1e3:8.2f} ms | closed form {fast * 1e3:8.2f} ms | "
          f"speed-up {slow / fast:.1f}x | max |difference| {err:.1e}\n")

    chunks = [torch.relu(torch.randn(32, 64, 16, 16, device=dev)) for _ in range(32)]

    def streamed():
        acc = ChannelAccumulator()
        for c in chunks:
            acc.update(c)
        return acc.result()["dead"]

    def concatenated():
        return dead_channels(torch.cat(chunks))

    assert torch.equal(streamed(), concatenated())
    t_stream, t_cat = median_time(streamed, dev, repeats=3), median_time(concatenated, dev, repeats=3)
    all_mb = sum(c.numel() for c in chunks) * 4 / 2**20
    print("[3] dead channels over 32 batches of 32 x 64 x 16x16")
    print(f"    concatenate-then-reduce {t_cat * 1e3:8.2f} ms, keeps {all_mb:.0f} MiB | "
          f"accumulator {t_stream * 1e3:8.2f} ms, keeps {6 * 64 * 8 / 1024:.1f} KiB | time ratio {t_stream / t_cat:.2f}x")


if __name__ == "__main__":
    main()
