"""Analyse a saved feature file: ``python -m nblib.analyze FEATURES --layers ... --save-dir DIR``.

Writes, per layer, ``{layer}_distribution.png``, ``{layer}_channel_stats.png`` and (for
maps) ``{layer}_spatial_patterns.png``, then ``layer_comparison.png`` and the numbers as
``stats.md`` and ``stats.json``. Bad input: one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m nblib.analyze", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("features", help="file written by python -m nblib.inspect (or nblib.inspect.save_features)")
    p.add_argument("--layers", nargs="+", help="layers to analyse (default: all in the file)")
    p.add_argument("--save-dir", default="feature_analysis", help="output folder (default: feature_analysis)")
    p.add_argument("--eps", type=float, default=1e-6, help="|a| <= eps counts as inactive (default 1e-6)")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .inspect.plots import plot_channel_stats, plot_distribution, plot_layer_comparison, plot_spatial_patterns
    from .inspect.stats import summarize
    from .inspect.storage import load_features

    try:
        feats = load_features(args.features)
    except (FileNotFoundError, ValueError) as exc:
        return fail(str(exc))
    available = list(feats.activations)
    if not available:
        return fail(f"{args.features} holds no activations")
    layers = args.layers or available
    unknown = [n for n in layers if n not in feats.activations]
    if unknown:
        return fail(f"unknown layer {', '.join(unknown)}; available: {', '.join(available)}")
    for name in layers:
        act = feats.activations[name]
        if act.numel() == 0:
            return fail(f"layer {name} has empty activations (shape {tuple(act.shape)})")
        if act.dim() < 2:
            return fail(f"layer {name} has shape {tuple(act.shape)}: expected (N, C, ...) activations")

    out = Path(args.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    acts = {n: feats.activations[n] for n in layers}
    for name, act in acts.items():
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
    print(f"wrote {len(list(out.glob('*.png')))} figures, stats.md and stats.json to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
