"""Analyse a saved feature file: ``python -m nblib.analyze FEATURES --layers ... --save-dir DIR``.

Writes, per layer, ``{layer}_distribution.png``, ``{layer}_channel_stats.png`` and (for
maps) ``{layer}_spatial_patterns.png``, then ``layer_comparison.png`` and the numbers as
``stats.md`` and ``stats.json``. Bad input: one line on stderr naming the problem and the
fix, exit code 2, nothing written (the files are staged and moved into place at the end).
"""
from __future__ import annotations

import argparse
import json
import sys

from ..cli import InputError, Parser, StagedDir, check_output_dir, finite_float, run_command


def main(argv=None) -> int:
    p = Parser(prog="python -m nblib.analyze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("features", help="file written by python -m nblib.inspect (or nblib.inspect.save_features)")
    p.add_argument("--layers", nargs="+", help="layers to analyse (default: all in the file)")
    p.add_argument("--save-dir", default="feature_analysis", help="output folder (default: feature_analysis)")
    p.add_argument("--eps", type=finite_float, default=1e-6, help="|a| <= eps counts as inactive (default 1e-6)")
    args = p.parse_args(argv)
    return run_command(lambda: run(args))


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import torch

    from .storage import load_features

    if args.eps < 0:
        raise InputError(f"--eps {args.eps} is negative; give a threshold >= 0 (default 1e-6)")
    check_output_dir(args.save_dir)
    try:
        feats = load_features(args.features)
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from None
    available = list(feats.activations)
    if not available:
        raise InputError(f"{args.features} holds no activations; extract some with python -m nblib.inspect")
    layers = args.layers or available
    unknown = [n for n in layers if n not in feats.activations]
    if unknown:
        raise InputError(f"unknown layer {', '.join(unknown)}; available: {', '.join(available)}")
    for name in layers:
        act = feats.activations[name]
        if act.numel() == 0:
            raise InputError(f"layer {name} has empty activations (shape {tuple(act.shape)}); re-extract it")
        if act.dim() < 2:
            raise InputError(f"layer {name} has shape {tuple(act.shape)}: expected (N, C, ...) activations")
        bad = int((~torch.isfinite(act)).sum()) if act.is_floating_point() else 0
        if bad:
            raise InputError(f"layer {name} holds {bad} NaN/Inf values; fix the model or input and re-extract")
    acts = {n: feats.activations[n] for n in layers}
    with StagedDir(args.save_dir) as stage:
        write(args, stage.path, acts, feats)
        out = stage.commit()
    print(f"wrote {len(list(out.glob('*.png')))} figures, stats.md and stats.json to {args.save_dir}")
    return 0


def write(args, out, acts, feats) -> None:
    """Every figure and table into the folder ``out``."""
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from .plots import plot_channel_stats, plot_distribution, plot_layer_comparison, plot_spatial_patterns
    from .stats import summarize

    for name, act in tqdm(acts.items(), desc="layers", disable=len(acts) < 8, leave=False):
        figs = {"distribution": plot_distribution(act, name), "channel_stats": plot_channel_stats(act, name, args.eps)}
        if act.dim() >= 3:
            figs["spatial_patterns"] = plot_spatial_patterns(act, name, args.eps)
        for kind, fig in figs.items():
            fig.savefig(out / f"{name}_{kind}.png", dpi=90, bbox_inches="tight")
            plt.close(fig)
    table = summarize(acts, args.eps)
    fig = plot_layer_comparison(summary=table)
    fig.savefig(out / "layer_comparison.png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    cols = ["shape", "mean", "std", "max", "sparsity", "dead_channels", "channels", "channel_entropy", "spatial_diversity"]
    (out / "stats.md").write_text(table[cols].to_markdown(floatfmt=".3f") + "\n")
    rows = table.assign(shape=table["shape"].map(list)).to_dict(orient="index")
    (out / "stats.json").write_text(json.dumps({"features": str(args.features), "metadata": feats.metadata,
                                                "layers": rows}, indent=1, default=float))
    print(table[cols].to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    sys.exit(main())
