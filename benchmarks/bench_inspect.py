"""Inspector and statistics speed, as ratios against baselines and peers measured in the same run.

1. Forward pass of ResNet-18 with 8 layers captured (copies kept on the device): the forward
   pass without hooks, nblib's ``Inspector`` and ``run_with_cache``, and the peers TorchLens
   (``torchlens.trace`` saving the same 8 modules) and nnsight (``.output.clone().save()`` on the
   same 8 modules), interleaved; every capture is checked equal to nblib's. Peers are optional
   imports, skipped with a note when missing or failing.
2. Spatial diversity by the closed form (O(positions x C)) against the explicit
   positions x positions cosine matrix: the speed-up ratio (and the same answer).
3. Dead-channel census by ChannelAccumulator (O(C) state, streamed) against concatenating
   every batch and reducing once: the time ratio, and the memory each keeps.

Median and min over ``--rounds`` interleaved rounds (order rotated every round).

    python benchmarks/bench_inspect.py [--device cuda] [--rounds 7]
"""
from __future__ import annotations

import copy


import torch
from interleave import interleaved, report

from nblib.inspect import ChannelAccumulator, Inspector, dead_channels, run_with_cache, spatial_diversity
from nblib.models import RESNET_LAYERS, FrameResNet18
from nblib.timing import benchmark_parser, start_benchmark

LAYERS = list(RESNET_LAYERS)


def torchlens_capture(model, x):
    """TorchLens saving the outputs of the same modules; returns name -> tensor."""
    import torchlens
    from torchlens.options import CaptureOptions

    # unwrap_when_done: TorchLens otherwise leaves every torch function wrapped after its first
    # call, which would slow down the other contenders of this process
    trace = torchlens.trace(model, x, capture=CaptureOptions(layers_to_save=LAYERS, unwrap_when_done=True))
    return {name: trace[name].out for name in LAYERS}


def nnsight_capture(wrapped, x):
    """nnsight saving a copy of each module's output (the copy is taken inside the forward pass:
    a plain ``.save()`` keeps a reference, and torchvision's in-place ReLU then overwrites bn1's
    saved output; nblib clones in its hook for the same reason)."""
    saved = {}
    with wrapped.trace(x):
        for name in LAYERS:
            saved[name] = getattr(wrapped, name).output.clone().save()
    return {name: getattr(v, "value", v) for name, v in saved.items()}


def capture_peers(model, x, ours: dict) -> tuple[dict, list[str]]:
    """The available peers as contenders, each checked equal to nblib's capture once."""
    peers, notes = {}, []
    try:
        got = torchlens_capture(model, x)
        same = all(torch.equal(got[k], ours[k]) for k in LAYERS)
        notes.append(f"TorchLens {__import__('torchlens').__version__}: 8 captures equal to nblib's: {same}")
        peers["TorchLens trace (8 modules saved)"] = lambda: torchlens_capture(model, x)
    except Exception as e:  # optional peer
        notes.append(f"TorchLens skipped: {type(e).__name__}: {str(e)[:200]}")
    try:
        import nnsight

        # nnsight replaces the forward methods of the model it wraps: give it a copy (same weights)
        # so that the other contenders run the untouched model
        wrapped = nnsight.NNsight(copy.deepcopy(model))
        got = nnsight_capture(wrapped, x)
        same = all(torch.equal(got[k], ours[k]) for k in LAYERS)
        notes.append(f"nnsight {nnsight.__version__}: 8 captures equal to nblib's: {same}")
        peers["nnsight trace (8 outputs .clone().save())"] = lambda: nnsight_capture(wrapped, x)
    except Exception as e:  # optional peer
        notes.append(f"nnsight skipped: {type(e).__name__}: {str(e)[:200]}")
    return peers, notes


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
    ap.add_argument("--rounds", type=int, default=7)
    args, dev = start_benchmark(ap, "rounds interleaved, order rotated")
    batch = 64 if dev.type == "cuda" else 16
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    model = FrameResNet18().to(dev).eval()
    x = torch.rand(batch, 1, 64, 64, device=dev)
    insp = Inspector(model, LAYERS)

    def with_inspector():
        with insp:
            model(x)
        return insp.cache

    with torch.no_grad():
        ours = run_with_cache(model, x, names_filter=LAYERS)[1].to_dict()
        contenders = {
            "forward, no hooks": lambda: model(x),
            "nblib Inspector (8 modules, clones)": with_inspector,
            "nblib run_with_cache (8 modules)": lambda: run_with_cache(model, x, names_filter=LAYERS),
        }
        peers, notes = capture_peers(model, x, ours)
        contenders.update(peers)
        times = interleaved(contenders, args.rounds, sync)
    print(f"[1] ResNet-18 forward, {batch} frames 64x64, 8 modules captured")
    for note in notes:
        print(f"    {note}")
    report(times, "forward, no hooks", width=42)
    print()

    acts = torch.relu(torch.randn(8, 128, 30, 30, device=dev))  # ARC-encoder sized: 900 positions
    err = (spatial_diversity(acts) - explicit_diversity(acts)).abs().max().item()
    times = interleaved({"closed form": lambda: spatial_diversity(acts),
                         "cosine matrix": lambda: explicit_diversity(acts)}, args.rounds, sync)
    print(f"[2] spatial diversity, 8 samples x 128 channels x 30x30 positions; max |difference| {err:.1e}")
    report(times, "closed form", width=20)
    print()

    chunks = [torch.relu(torch.randn(32, 64, 16, 16, device=dev)) for _ in range(32)]

    def streamed():
        acc = ChannelAccumulator()
        for c in chunks:
            acc.update(c)
        return acc.result()["dead"]

    def concatenated():
        return dead_channels(torch.cat(chunks))

    assert torch.equal(streamed(), concatenated())
    times = interleaved({"concatenate, reduce": concatenated, "accumulator": streamed}, args.rounds, sync)
    all_mb = sum(c.numel() for c in chunks) * 4 / 2**20
    print(f"[3] dead channels over 32 batches of 32 x 64 x 16x16: concatenating keeps {all_mb:.0f} MiB, "
          f"the accumulator {6 * 64 * 8 / 1024:.1f} KiB")
    report(times, "concatenate, reduce", width=20)


if __name__ == "__main__":
    main()
