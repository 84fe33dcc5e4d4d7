"""Diagnose a network: ``python -m nblib doctor --model MODULE:CALLABLE --input DATA --report-dir DIR``.

``--model`` is MODULE:CALLABLE (``mymodel:TinyCNN``, ``torchvision.models:resnet18``) or a built-in
name, built with ``--model-kwargs`` JSON; ``--checkpoint`` loads weights (state dict, Lightning,
.safetensors; pickled code is never run; without it the model is judged at initialisation).
``--input`` is a .pt/.npy tensor (N, C, H, W), an image folder, or a built-in dataset: ``cifar10``
or ``mnist`` (test split, ``--limit`` images drawn at random with ``--seed``, scaled to [0, 1]; labels included).
``--labels`` (.pt/.npy, N class indices) is needed by ``--train-steps`` for your own inputs.
``--train-steps N`` trains a copy for N minibatches (``--optimizer adam``, ``--lr 1e-3`` by default)
under the GradientTracker and compares the dead-unit census before and after.

Writes DIR/report.md (plots beside it as PNGs) and a self-contained DIR/report.html, and prints
the findings. Bad input: one line on stderr naming the problem and the fix, exit code 2, nothing
written. Exit code 0 otherwise (also with critical findings: they are the report, not an error).
"""
from __future__ import annotations

import argparse
import sys

from ..cli import InputError, Parser, check_output_dir, finite_float, positive_int, run_command

DATASETS = ("cifar10", "mnist")


def build_parser(prog: str = "python -m nblib doctor") -> Parser:
    p = Parser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="MODULE:CALLABLE (e.g. torchvision.models:resnet18) or a built-in name")
    p.add_argument("--model-kwargs", metavar="JSON", help="keyword arguments for MODULE:CALLABLE, e.g. '{\"num_classes\": 10}'")
    p.add_argument("--checkpoint", help="weights: state dict (.pt/.pth), Lightning .ckpt or .safetensors (default: as built)")
    p.add_argument("--no-strict", action="store_true", help="load the checkpoint's tensors that fit and list the rest")
    p.add_argument("--input", required=True, help=f"tensor file (.pt/.npy), image folder, or {' / '.join(DATASETS)}")
    p.add_argument("--labels", help="class indices for --input (.pt/.npy, one per input); needed by --train-steps")
    p.add_argument("--limit", type=positive_int, help="use LIMIT inputs (your own: the first LIMIT; built-in datasets: LIMIT at random, default 1000)")
    p.add_argument("--size", type=positive_int, help="resize inputs to SIZE x SIZE pixels")
    p.add_argument("--mean", type=finite_float, nargs="+", help="per-channel mean subtracted from the input")
    p.add_argument("--std", type=finite_float, nargs="+", help="per-channel std dividing the input")
    p.add_argument("--channels", type=int, choices=(1, 3), default=3, help="image folders as RGB (3) or grayscale (1)")
    p.add_argument("--train-steps", type=int, default=0, help="short training run of a copy, in minibatches (default 0: none)")
    p.add_argument("--optimizer", default="adam", choices=("adam", "adamw", "sgd"), help="for --train-steps (default adam)")
    p.add_argument("--lr", type=finite_float, default=1e-3, help="learning rate for --train-steps (default 1e-3)")
    p.add_argument("--batch-size", type=positive_int, default=128, help="inputs per forward pass (default 128)")
    p.add_argument("--report-dir", required=True, help="output folder for report.md and report.html")
    p.add_argument("--seed", type=int, default=0, help="seed of the model as built (SEED), the reference at init (SEED+1), the data subset and the training run")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default auto)")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: torch's; 1 is faster on a busy machine)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def read_labels(path: str, n: int):
    from pathlib import Path

    import torch

    from ..inspect.inputs import _read_tensor

    p = Path(path)
    if not p.is_file():
        raise InputError(f"--labels {path} not found; pass a .pt/.npy file of class indices")
    if p.suffix.lower() not in (".pt", ".pth", ".npy"):
        raise InputError(f"--labels {path}: unsupported file type {p.suffix or '(none)'}; use .pt or .npy")
    y = _read_tensor(p).reshape(-1) if p.stat().st_size else None
    if y is None or y.is_floating_point() and not torch.equal(y, y.round()):
        raise InputError(f"--labels {path} must hold integer class indices")
    if y.numel() < n:
        raise InputError(f"--labels {path} holds {y.numel()} labels for {n} inputs; give one label per input")
    return y[:n].long()


def load_data(args):
    """(x, y or None, description)."""
    import torch

    from ..inspect.inputs import load_input, normalise

    if args.input in DATASETS:
        from ..data import load_cifar10, load_mnist

        data = load_cifar10("test") if args.input == "cifar10" else load_mnist("test")
        n = min(args.limit or 1000, data.images.shape[0])
        # a seeded random subset: the files are sorted by class (CIFAR-10's first 1,000 are all planes)
        pick = torch.randperm(data.images.shape[0], generator=torch.Generator().manual_seed(args.seed))[:n].sort().values
        x = data.images[pick].float() / 255
        if args.size:
            x = torch.nn.functional.interpolate(x, size=(args.size, args.size), mode="bilinear", antialias=True)
        x = normalise(x, args.mean, args.std)
        y = data.labels[pick].long()
        if args.labels:
            raise InputError(f"--labels does not apply to the built-in {args.input}: its labels are used")
        return x, y, f"{args.input} test split, {n} images drawn at random (seed {args.seed}; {data.source})"
    user = load_input(args.input, args.size, args.mean, args.std, args.channels)
    x = user.tensor
    if user.is_sequence:
        raise InputError(f"--input {args.input} holds sequences {tuple(x.shape)}; the doctor takes (N, C, H, W) batches")
    if args.limit:
        x = x[: args.limit]
    y = read_labels(args.labels, x.shape[0]) if args.labels else None
    return x, y, user.description


def run(args) -> int:
    import torch

    from ..checkpoints import load_weights
    from ..inspect.__main__ import pick_device
    from ..inspect.loading import build_from_spec, parse_kwargs
    from .core import doctor

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train_steps < 0:
        raise InputError(f"--train-steps {args.train_steps} must be 0 or more")
    if not args.lr > 0:
        raise InputError(f"--lr {args.lr} must be positive")
    check_output_dir(args.report_dir, "--report-dir")
    with torch.random.fork_rng():  # without a checkpoint the model is its random initialisation: seeded
        torch.manual_seed(args.seed)
        model, built = build_from_spec(args.model, parse_kwargs(args.model_kwargs))
    if args.checkpoint:
        loaded = load_weights(args.checkpoint, model, strict=not args.no_strict)
        if not loaded.complete:
            print(f"--no-strict: loaded {len(loaded.loaded)} tensors; left at initialisation: {loaded.describe()}")
    with torch.random.fork_rng():  # the reference: the same constructor (same init scheme), another seed
        torch.manual_seed(args.seed + 1)
        init_model, _ = build_from_spec(args.model, parse_kwargs(args.model_kwargs))
    dev = pick_device(args.device)
    x, y, what = load_data(args)
    if args.train_steps and y is None:
        raise InputError("--train-steps needs labels: pass --labels FILE (class indices), or a built-in dataset")
    model.to(dev)
    diag = doctor(model, (x, y) if y is not None else x, train_steps=args.train_steps, optimizer=args.optimizer,
                  lr=args.lr, batch_size=args.batch_size, seed=args.seed, progress=not args.quiet, device=dev,
                  init_model=init_model.to(dev))
    diag.meta["model"] = args.model + (f" ({args.checkpoint})" if args.checkpoint else " (as built, no checkpoint)")
    diag.meta["data"] = what
    diag.meta["reference"] = f"{args.model} built again with the same arguments, seed {args.seed + 1} (its own init scheme)"
    out = diag.save(args.report_dir)
    print(f"{built.name}: {diag.summary()} ({diag.meta['timings']['total']:.1f} s over {diag.meta['samples']} inputs)")
    for f in diag.findings:
        print(f"  [{f.severity}] {f.name} at {f.layer}: {f.message}")
    print(f"report: {out / 'report.md'} and {out / 'report.html'}")
    return 0


def main(argv=None, prog: str = "python -m nblib doctor") -> int:
    args = build_parser(prog).parse_args(argv)
    return run_command(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main(prog="python -m nblib.doctor"))
