"""Extract feature maps from a checkpoint: ``python -m nblib.inspect --checkpoint CKPT --model NAME ...``.

Runs the model on a batch of moving-dSprites videos (B x T frames), records the chosen
layers for one sequence (``--batch-idx``) and frame (``--timestep``), and writes
``features_b{B}_t{T}_{model}_{size}.pt`` plus one channel-grid PNG per layer into
``--save-dir``. Read the file with ``python -m nblib.analyze``. Bad input: one line on
stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv=None):
    from ..models import MODELS

    p = argparse.ArgumentParser(prog="python -m nblib.inspect", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="model checkpoint (.pt/.pth state dict)")
    p.add_argument("--model", default="resnet18", choices=sorted(MODELS), help="architecture (default: resnet18)")
    p.add_argument("--layers", nargs="+", help="dotted module names or globs (default: the model's standard set)")
    p.add_argument("--batch-idx", type=int, default=0, help="which sequence of the batch to record (default 0)")
    p.add_argument("--timestep", type=int, default=0, help="which frame of the sequence to record (default 0)")
    p.add_argument("--save-dir", default="feature_maps", help="output folder (default: feature_maps)")
    p.add_argument("--batch-size", type=int, default=2, help="sequences in the batch (default 2)")
    p.add_argument("--frames", type=int, default=8, help="frames per sequence (default 8)")
    p.add_argument("--size", type=int, default=64, help="input resolution in pixels (default 64)")
    p.add_argument("--num-channels", type=int, default=16, help="channels per feature-map PNG (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the input videos (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--list-layers", action="store_true", help="print the model's module names and exit")
    return p.parse_args(argv)


def fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    args = parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from ..checkpoints import CheckpointError, load_checkpoint
    from ..data import moving_sprites
    from ..models import MODELS, build_model
    from ..runtime import device as pick_device
    from .hooks import resolve_names, run_with_cache
    from .plots import plot_feature_maps
    from .storage import save_features

    model = build_model(args.model)
    if args.list_layers:
        print("\n".join(n for n, _ in model.named_modules() if n))
        return 0
    for flag, value, limit in (("--batch-idx", args.batch_idx, args.batch_size), ("--timestep", args.timestep, args.frames)):
        if not 0 <= value < limit:
            return fail(f"{flag} {value} out of range: must be in 0..{limit - 1}")
    if args.size < 16:
        return fail(f"--size {args.size} too small: at least 16 pixels")
    try:
        ckpt_meta = load_checkpoint(args.checkpoint, model)
        layers = resolve_names(model, args.layers or list(MODELS[args.model].default_layers))
    except (CheckpointError, KeyError) as exc:
        return fail(str(exc).strip("'\""))
    dev = pick_device(args.device)
    model.to(dev).eval()

    video = moving_sprites(args.batch_size, args.frames, seed=args.seed).images.float()  # (B, T, 1, 64, 64)
    if args.size != video.shape[-1]:
        b, t = video.shape[:2]
        video = torch.nn.functional.interpolate(video.flatten(0, 1), size=args.size, mode="nearest")
        video = video.view(b, t, 1, args.size, args.size)  # (B, T, 1, S, S)
    _, cache = run_with_cache(model, video.to(dev), names_filter=layers, store="cpu",
                              seq_len=args.frames, batch_idx=args.batch_idx, timestep=args.timestep)
    unreached = [n for n in layers if n not in cache]
    if unreached:
        return fail(f"no activations for {', '.join(unreached)}: the forward pass never reached them")

    save_dir = Path(args.save_dir)
    tag = f"b{args.batch_idx}_t{args.timestep}"
    path = save_dir / f"features_{tag}_{args.model}_{args.size}.pt"
    meta = {
        "checkpoint": str(Path(args.checkpoint).resolve()), "checkpoint_metadata": ckpt_meta,
        "model": args.model, "layers": layers, "batch_idx": args.batch_idx, "timestep": args.timestep,
        "batch_size": args.batch_size, "frames": args.frames, "size": args.size, "seed": args.seed,
        "input": f"moving dSprites, {args.batch_size} videos x {args.frames} frames, seed {args.seed}",
    }
    save_features(path, cache.to_dict(), meta)
    for name in layers:
        act = cache[name]
        if act.dim() >= 3:
            n = min(args.num_channels, act.shape[1])
            fig = plot_feature_maps(act, channels=range(n), title=f"{name} ({tag})")
            fig.savefig(save_dir / f"{name}_{tag}.png", dpi=90, bbox_inches="tight")
            plt.close(fig)
        print(f"{name:12s} {tuple(act.shape)}")
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
