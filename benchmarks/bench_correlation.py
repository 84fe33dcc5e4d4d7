"""Layer correlation and CKA of the notebook-03 MLP, against numpy and torch-cka in the same run.

1. All-pairs layer cross-correlation on 10,000 inputs: nblib (standardise each layer once, one
   matrix product per layer pair, on the device) against ``numpy.corrcoef`` per layer pair;
   both results compared entry by entry.
2. Linear CKA between all layer pairs on ``--cka-samples`` inputs, forward passes included:
   ``nblib.correlation.cka_matrix`` (whatever version this checkout has, called by name; with
   ``debiased=True`` when it takes that argument) against the peer torch-cka (``CKA.compare`` on
   one batch, unbiased HSIC; an optional import, skipped with a note when missing). Both are
   compared with torch-cka's estimator evaluated in float64 (torch-cka computes it in float32).

Median and min over ``--rounds`` interleaved rounds (order rotated every round).

    python benchmarks/bench_correlation.py [--device cuda] [--samples 10000] [--cka-samples 2000] [--rounds 7]
"""
from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np
import torch
from interleave import interleaved, report

from nblib.correlation import cka_matrix, get_intermediate_outputs, layerwise_cross_correlation
from nblib.models import MLP
from nblib.timing import benchmark_parser, start_benchmark


def numpy_all_pairs(outputs: dict[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    names = list(outputs)
    res = {}
    for i, a in enumerate(names):
        for b in names[i:]:
            da = outputs[a].shape[1]
            with np.errstate(invalid="ignore", divide="ignore"):  # dead units: NaN, as in nblib
                res[(a, b)] = np.corrcoef(outputs[a].T, outputs[b].T)[:da, da:]
    return res


def unbiased_cka_float64(outputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """torch-cka's estimator (unbiased HSIC, Nguyen et al. 2021 eq. 3, on Gram matrices with a
    zeroed diagonal) evaluated in float64: the reference both CKA results are checked against.
    torch-cka itself evaluates it in float32, where its large cancelling sums lose about 1e-2."""
    def hsic(k, l):
        n = k.shape[0]
        return ((k * l).sum() + k.sum() * l.sum() / ((n - 1) * (n - 2)) - 2 * (k.sum(0) @ l.sum(1)) / (n - 2)) / (
            n * (n - 3))

    grams = []
    for v in outputs.values():
        v = v.double().flatten(1)
        g = v @ v.t()
        g.fill_diagonal_(0)
        grams.append(g)
    m = torch.empty(len(grams), len(grams), dtype=torch.float64)
    for i, k in enumerate(grams):
        for j, l in enumerate(grams):
            m[i, j] = hsic(k, l) / (hsic(k, k) * hsic(l, l)).sqrt()
    return m.cpu()


def torch_cka_contender(model, x, names, dev):
    """torch-cka's all-pairs CKA on one batch of x; returns (run, result-of-one-run)."""
    import torch_cka.cka
    from torch.utils.data import DataLoader, TensorDataset
    from torch_cka import CKA

    torch_cka.cka.tqdm = lambda it, **kwargs: it  # no progress bar per compare()

    loader = DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=len(x))
    # torch-cka never removes its hooks: it gets two copies, the other contenders the original
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cka = CKA(copy.deepcopy(model), copy.deepcopy(model), "mlp_a", "mlp_b", names, names, device=str(dev))

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cka.compare(loader)
        return cka.hsic_matrix.double().cpu()

    return run


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--cka-samples", type=int, default=2_000)
    ap.add_argument("--rounds", type=int, default=7)
    args, dev = start_benchmark(ap, "rounds interleaved, order rotated")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    model = MLP((784, 256, 128, 64, 10)).to(dev).eval()
    names = model.layer_names

    x = torch.rand(args.samples, 784, device=dev)
    outs = get_intermediate_outputs(model, x, names)  # name -> (N, D) on the device
    outs_np = {k: v.double().cpu().numpy() for k, v in outs.items()}
    ours, ref = layerwise_cross_correlation(outs), numpy_all_pairs(outs_np)
    err = max(np.nanmax(np.abs(ours[k].double().cpu().numpy() - ref[k])) for k in ref)
    times = interleaved({"nblib layerwise_cross_correlation": lambda: layerwise_cross_correlation(outs),
                         "numpy.corrcoef per pair (float64)": lambda: numpy_all_pairs(outs_np)}, args.rounds, sync)
    widths = {k: v.shape[1] for k, v in outs.items()}
    print(f"[1] all layer pairs, {args.samples} samples, widths {widths}, 10 pairs; max |difference| {err:.1e}")
    report(times, "nblib layerwise_cross_correlation", width=36)
    print()

    xc = x[: args.cka_samples]
    debiased = "debiased" in inspect.signature(cka_matrix).parameters
    kw = {"debiased": True} if debiased else {}

    def ours_cka():
        return cka_matrix(get_intermediate_outputs(model, xc, names), **kw)

    label = f"nblib cka_matrix ({'debiased' if debiased else 'biased'}, forward included)"
    contenders = {label: ours_cka}
    print(f"[2] linear CKA, all {len(names)}x{len(names)} layer pairs, {len(xc)} samples, forward passes included")
    reference = unbiased_cka_float64(get_intermediate_outputs(model, xc, names))
    mine = ours_cka().double().cpu()
    print(f"    nblib vs torch-cka's estimator in float64: max |difference| {(mine - reference).abs().max().item():.1e}"
          + ("" if debiased else " (nblib's cka_matrix here is the biased estimator: a different quantity)"))
    try:
        peer = torch_cka_contender(model, xc, names, dev)
        theirs = peer()
        print(f"    torch-cka {__import__('torch_cka').__version__} (CKA.compare, one batch, float32) vs the same float64 "
              f"reference: max |difference| {(theirs - reference).abs().max().item():.1e}")
        contenders["torch-cka CKA.compare (one batch)"] = peer
    except Exception as e:  # optional peer
        print(f"    torch-cka skipped: {type(e).__name__}: {str(e)[:200]}")
    report(interleaved(contenders, args.rounds, sync), label, width=52)


if __name__ == "__main__":
    main()
