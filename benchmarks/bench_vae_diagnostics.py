"""VAE diagnostics speed, as ratios against a loop baseline measured in the same run.

1. Factor mutual information for all (unit, factor) pairs from one ``bincount`` against a
   Python loop over units and factors (one joint histogram each): speed-up and the same answer.
2. Per-unit mu histograms from one ``bincount`` against ``torch.histc`` per unit.

    python benchmarks/bench_vae_diagnostics.py [--device cuda]
"""
from __future__ import annotations


import torch

from nblib.timing import benchmark_parser, median_time, start_benchmark
from nblib.latents import factor_mutual_information, mu_histograms


def loop_mutual_information(latents: torch.Tensor, factors: torch.Tensor, bins: int = 20) -> torch.Tensor:
    """Reference: one joint histogram per (unit, factor), normalised by the factor's entropy."""
    n, d = latents.shape
    out = torch.zeros(d, factors.shape[1])
    for u in range(d):
        col = latents[:, u]
        b = ((col - col.min()) / (col.max() - col.min()).clamp_min(1e-12) * bins).floor().long().clamp(0, bins - 1)
        for k in range(factors.shape[1]):
            f = factors[:, k]
            levels = int(f.max()) + 1
            joint = torch.bincount(b * levels + f, minlength=bins * levels).view(bins, levels).double() / n
            pb, pf = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
            nz = joint > 0
            mi = (joint[nz] * (joint[nz] / (pb @ pf)[nz]).log()).sum()
            hf = -(pf[pf > 0] * pf[pf > 0].log()).sum()
            out[u, k] = (mi / hf).float()
    return out


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    args, dev = start_benchmark(ap)
    g = torch.Generator().manual_seed(0)

    n, d = 20000, 12
    factors = torch.stack([torch.randint(0, s, (n,), generator=g) for s in (3, 6, 40, 32, 32)], 1)
    latents = factors[:, [0, 1, 3, 4]].float().repeat(1, 3) + torch.randn(n, d, generator=g)
    lat_d, fac_d = latents.to(dev), factors.to(dev)
    fast = median_time(lambda: factor_mutual_information(lat_d, fac_d), dev)
    slow = median_time(lambda: loop_mutual_information(latents, factors), torch.device("cpu"), repeats=3, warmup=1)
    err = (factor_mutual_information(latents, factors) - loop_mutual_information(latents, factors)).abs().max().item()
    print(f"[1] factor mutual information, {n} samples x {d} units x 5 factors")
    print(f"    loop over pairs {slow * 1e3:8.2f} ms | one bincount {fast * 1e3:8.2f} ms | "
          f"speed-up {slow / fast:.1f}x | max |difference| {err:.1e}\n")

    mu = torch.randn(n, d, device=dev)
    fast = median_time(lambda: mu_histograms(mu, 41, (-4.0, 4.0)), dev)
    slow = median_time(lambda: torch.stack([torch.histc(mu[:, j], 41, -4.0, 4.0) for j in range(d)]), dev)
    print(f"[2] mu histograms, {n} x {d}, 41 bins")
    print(f"    histc per unit {slow * 1e3:8.2f} ms | one bincount {fast * 1e3:8.2f} ms | speed-up {slow / fast:.1f}x")


if __name__ == "__main__":
    main()
