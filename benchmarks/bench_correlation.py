"""All-pairs layer cross-correlation of the notebook-03 MLP on 10,000 inputs.

nblib (standardise each layer once, one matrix product per layer pair, on the device)
against ``numpy.corrcoef`` called per layer pair (the straightforward implementation),
as a ratio in one run. Both results are compared entry by entry.

    python benchmarks/bench_correlation.py [--device cuda] [--samples 10000]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from nblib import describe_device, device
from nblib.correlation import get_intermediate_outputs, layerwise_cross_correlation
from nblib.models import MLP
from nblib.timing import median_time


def numpy_all_pairs(outputs: dict[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    names = list(outputs)
    res = {}
    for i, a in enumerate(names):
        for b in names[i:]:
            da = outputs[a].shape[1]
            with np.errstate(invalid="ignore", divide="ignore"):  # dead units: NaN, as in nblib
                res[(a, b)] = np.corrcoef(outputs[a].T, outputs[b].T)[:da, da:]
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--samples", type=int, default=10_000)
    args = ap.parse_args()
    dev = device(args.device)
    torch.manual_seed(0)
    model = MLP((784, 256, 128, 64, 10)).to(dev).eval()
    x = torch.rand(args.samples, 784, device=dev)
    outs = get_intermediate_outputs(model, x, model.layer_names)  # name -> (N, D) on the device
    outs_np = {k: v.double().cpu().numpy() for k, v in outs.items()}
    widths = {k: v.shape[1] for k, v in outs.items()}
    print(f"device: {describe_device(dev)}; {args.samples} samples, layer widths {widths}, 10 layer pairs\n")

    ours = layerwise_cross_correlation(outs)
    ref = numpy_all_pairs(outs_np)
    err = max(np.nanmax(np.abs(ours[k].double().cpu().numpy() - ref[k])) for k in ref)

    t_np = median_time(lambda: numpy_all_pairs(outs_np), torch.device("cpu"), repeats=5, warmup=1)
    t_ours = median_time(lambda: layerwise_cross_correlation(outs), dev, repeats=5, warmup=1)
    print(f"numpy.corrcoef per pair (CPU, float64) : {t_np * 1e3:9.2f} ms")
    print(f"nblib layerwise_cross_correlation      : {t_ours * 1e3:9.2f} ms  ({dev.type}, float32)")
    print(f"speed-up                               : {t_np / t_ours:.1f}x   max |difference| {err:.1e}")


if __name__ == "__main__":
    main()
