"""Extract feature maps from any model: ``python -m nblib.inspect --model M --checkpoint CKPT ...``.

``--model`` is a built-in name (resnet18) or MODULE:CALLABLE (``mymodel:TinyCNN``,
``torchvision.models:resnet18``), built with ``--model-kwargs`` JSON. ``--checkpoint`` takes
a state dict in any common layout, Lightning checkpoints and .safetensors; pickled code is
never run. ``--input`` takes a .pt/.npy tensor (N, C, H, W) or (N, T, C, H, W), one image or a
folder of images (``--size``, ``--mean``, ``--std``); (N, T, C, H, W) goes to the model as it
is, so the model must take sequences (the built-in resnet18 does). Without ``--input`` the input
is the moving-dSprites demo (``--batch-size`` videos x ``--frames`` frames). The chosen layers are
recorded for one sequence or image (``--batch-idx``, or ``all``) and frame (``--timestep``)
and written as ``features_b{B}[_t{T}]_{model}_{size}.pt`` plus one channel-grid PNG per layer
into ``--save-dir``. Read the file with ``python -m nblib.analyze``.

Bad input: one line on stderr naming the problem and the fix, exit code 2, nothing written.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import InputError, Parser, StagedDir, check_output_dir, finite_float, positive_int, run_command


def index_or_all(text: str) -> int | None:
    """argparse type for --batch-idx: an integer, or ``all`` (None)."""
    if text == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer or 'all'") from None


def build_parser() -> Parser:
    p = Parser(prog="python -m nblib.inspect", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet18", help="built-in name (resnet18) or MODULE:CALLABLE (default: resnet18)")
    p.add_argument("--model-kwargs", metavar="JSON", help="keyword arguments for MODULE:CALLABLE, e.g. '{\"num_classes\": 10}'")
    p.add_argument("--checkpoint", help="weights: state dict (.pt/.pth), Lightning .ckpt or .safetensors")
    p.add_argument("--no-strict", action="store_true", help="load the tensors that fit and list the rest")
    p.add_argument("--list-layers", action="store_true", help="print the model's module names and exit (no checkpoint needed)")
    p.add_argument("--input", help="tensor file (.pt/.npy), image, or folder of images (default: moving-dSprites demo)")
    p.add_argument("--size", type=positive_int, help="resize inputs to SIZE x SIZE pixels (demo default 64)")
    p.add_argument("--mean", type=finite_float, nargs="+", help="per-channel mean subtracted from --input")
    p.add_argument("--std", type=finite_float, nargs="+", help="per-channel std dividing --input")
    p.add_argument("--channels", type=int, choices=(1, 3), default=3, help="images as RGB (3, default) or grayscale (1)")
    p.add_argument("--layers", nargs="+", help="dotted module names or globs (default: the model's top-level modules)")
    p.add_argument("--batch-idx", type=index_or_all, default=0, help="which sequence or image to record, or 'all' (default 0)")
    p.add_argument("--timestep", type=int, default=0, help="which frame of each sequence to record (default 0)")
    p.add_argument("--save-dir", default="feature_maps", help="output folder (default: feature_maps)")
    p.add_argument("--batch-size", type=positive_int, default=2, help="demo: videos in the batch (default 2)")
    p.add_argument("--frames", type=positive_int, default=8, help="demo: frames per video (default 8)")
    p.add_argument("--num-channels", type=positive_int, default=16, help="channels per feature-map PNG (default 16)")
    p.add_argument("--seed", type=int, default=0, help="demo: seed of the videos (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default auto)")
    return p


def pick_device(name: str):
    import torch

    from ..runtime import device

    try:
        dev = device(name)
        torch.empty(0, device=dev)  # cuda:7 on a one-GPU machine fails here
        return dev
    except (RuntimeError, ValueError, AssertionError) as exc:
        raise InputError(f"--device {name} is not available here ({' '.join(str(exc).split())[:120]}); "
                         "use --device cpu or auto") from None


def demo_input(args, model, built):
    """(input, seq_len, batch_size, description): dSprites videos, or frames for a 2-D model."""
    import torch.nn.functional as F

    from ..data import moving_sprites
    from .loading import first_in_channels

    size = args.size or 64
    if size < 16:
        raise InputError(f"--size {size} too small for the demo sprites: at least 16 pixels")
    video = moving_sprites(args.batch_size, args.frames, seed=args.seed).images.float()  # (B, T, 1, 64, 64)
    b, t = video.shape[:2]
    frames = video.flatten(0, 1)  # (B*T, 1, 64, 64)
    if size != frames.shape[-1]:
        frames = F.interpolate(frames, size=size, mode="nearest")
    what = f"moving dSprites, {b} videos x {t} frames, seed {args.seed}"
    if built.sequence_input:
        return frames.view(b, t, 1, size, size), t, b, what
    channels = first_in_channels(model) or 1
    return frames.expand(-1, channels, -1, -1).contiguous(), t, b, what + f", as {b * t} frames x {channels} channels"


def check_selection(args, n: int, steps: int | None) -> None:
    if args.batch_idx is not None and not 0 <= args.batch_idx < n:
        raise InputError(f"--batch-idx {args.batch_idx} out of range: must be in 0..{n - 1} (or 'all')")
    if steps is None and args.timestep != 0:
        raise InputError(f"--timestep {args.timestep} needs sequences: the input is a (N, C, H, W) batch")
    if steps is not None and not 0 <= args.timestep < steps:
        raise InputError(f"--timestep {args.timestep} out of range: must be in 0..{steps - 1}")


def run(args) -> int:
    import torch

    from ..checkpoints import load_weights
    from .hooks import resolve_names, run_with_cache
    from .inputs import load_input
    from .loading import build_from_spec, parse_kwargs

    model, built = build_from_spec(args.model, parse_kwargs(args.model_kwargs))
    if args.list_layers:
        for name, module in model.named_modules():
            if name:
                print(f"{name:40s} {type(module).__name__}")
        return 0
    if not args.checkpoint:
        raise InputError("give --checkpoint CKPT (the model's weights), or --list-layers to see its layers")
    check_output_dir(args.save_dir)
    dev = pick_device(args.device)
    loaded = load_weights(args.checkpoint, model, strict=not args.no_strict)
    if not loaded.complete:
        print(f"--no-strict: loaded {len(loaded.loaded)} tensors; left at initialisation: {loaded.describe()}")
    try:
        layers = resolve_names(model, args.layers or list(built.default_layers))
    except KeyError as exc:
        raise InputError(str(exc).strip("'\"") + "; list them with --list-layers") from None
    if not layers:
        raise InputError(f"{built.name} has no submodules to record; pass --layers")
    if args.input:
        user = load_input(args.input, args.size, args.mean, args.std, args.channels)
        x, what = user.tensor, user.description
        steps, n = (x.shape[1], x.shape[0]) if user.is_sequence else (None, x.shape[0])
    else:
        if args.mean or args.std:
            raise InputError("--mean/--std apply to --input; the demo videos are used as they are")
        x, steps, n, what = demo_input(args, model, built)
    check_selection(args, n, steps)
    model.to(dev).eval()
    try:
        _, cache = run_with_cache(model, x.to(dev), names_filter=layers, store="cpu", seq_len=steps,
                                  batch_size=n if steps else None, batch_idx=args.batch_idx,
                                  timestep=args.timestep if steps else None)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise InputError(f"the forward pass of {built.name} failed on input {tuple(x.shape)} "
                         f"({exc.__class__.__name__}: {' '.join(str(exc).split())[:160]}); give --input of the shape "
                         "the model expects (see --size, --channels)") from None
    unreached = [name for name in layers if name not in cache]
    if unreached:
        raise InputError(f"no activations for {', '.join(unreached)}: the forward pass never reached them "
                         "(functional ops such as torch.relu are not modules); choose others with --layers")
    for name in layers:
        bad = int((~torch.isfinite(cache[name])).sum())
        if bad:
            raise InputError(f"layer {name} produced {bad} NaN/Inf values: the checkpoint's weights or the input "
                             "are broken; check them with torch.isfinite before inspecting")
    write_outputs(args, built, cache, layers, {
        "checkpoint": str(Path(args.checkpoint).resolve()), "checkpoint_metadata": loaded.metadata,
        "model": args.model, "model_kwargs": parse_kwargs(args.model_kwargs), "layers": layers,
        "strict": not args.no_strict, "not_loaded": loaded.describe(), "batch_idx": args.batch_idx,
        "timestep": args.timestep if steps else None, "batch_size": n, "frames": steps,
        "size": int(x.shape[-1]), "seed": args.seed, "input": what,
    })
    return 0


def write_outputs(args, built, cache, layers, meta) -> None:
    """Feature file and PNGs into a staged folder, moved into --save-dir only when all are written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from .plots import plot_feature_maps
    from .storage import save_features

    tag = f"b{'all' if args.batch_idx is None else args.batch_idx}" + (f"_t{args.timestep}" if meta["frames"] else "")
    name = f"features_{tag}_{built.name}_{meta['size']}.pt"
    with StagedDir(args.save_dir) as stage:
        save_features(stage.path / name, cache.to_dict(), json.loads(json.dumps(meta, default=str)))
        for layer in tqdm(layers, desc="plots", disable=len(layers) < 8, leave=False):
            act = cache[layer]
            if act.dim() == 4:
                n = min(args.num_channels, act.shape[1])
                fig = plot_feature_maps(act, channels=range(n), title=f"{layer} ({tag})")
                fig.savefig(stage.path / f"{layer}_{tag}.png", dpi=90, bbox_inches="tight")
                plt.close(fig)
            print(f"{layer:12s} {tuple(act.shape)}")
        stage.commit()
    print(f"saved {Path(args.save_dir) / name}")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
