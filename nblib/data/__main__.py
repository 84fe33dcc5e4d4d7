"""``python -m nblib.data status`` and ``python -m nblib.data prepare NAME --from PATH``.

``status`` exits 1 when a dataset that a full (non-quick) run needs is missing. Bad input:
one line on stderr naming the problem and the fix, exit code 2, and nothing left in the
data root (``prepare`` validates everything in a staging folder before moving it in).
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..cli import InputError, Parser, run_command
from ..paths import DATA_ENV, data_root
from . import arc, cifar10, dsprites, mnist

STATUS = {"arc": arc.status, "dsprites": dsprites.status, "mnist": mnist.status, "cifar10": cifar10.status}
EXIT_MISSING = 1


def cmd_status(_args) -> int:
    print(f"data root: {data_root()}  (set ${DATA_ENV} to move it)")
    missing = []
    for name, fn in STATUS.items():
        line = fn()
        print(f"  {name:9s} {line}")
        if "MISSING" in line:
            missing.append(name)
    if missing:
        print(f"missing for a full run: {', '.join(missing)}; see the fix on each line above", file=sys.stderr)
        return EXIT_MISSING
    return 0


def cmd_prepare(args) -> int:
    if args.name in {"arc", "dsprites"}:
        print(f"{args.name}: nothing to prepare ({STATUS[args.name]()})")
        return 0
    if not args.src and not args.download:
        raise InputError(f"give --from PATH or --download for {args.name}")
    if args.src and args.download:
        raise InputError("give either --from PATH or --download, not both")
    if args.name == "mnist":
        if args.download:
            mnist.download_mnist()
        else:
            for line in mnist.prepare_mnist(Path(args.src)):
                print(f"mnist: {line}")
    else:  # cifar10
        src = cifar10.download_cifar10() if args.download else Path(args.src)
        cifar10.build_cache(src)
    print(f"{args.name}: {STATUS[args.name]()}")
    return 0


def main(argv=None) -> int:
    parser = Parser(prog="python -m nblib.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="list each dataset, where it was found and its size")
    prep = sub.add_parser("prepare", help="import local files (or download) into the data root")
    prep.add_argument("name", choices=list(STATUS))
    prep.add_argument("--from", dest="src", metavar="PATH", help="folder or archive holding the files")
    prep.add_argument("--download", action="store_true", help="fetch with torchvision (needs network)")
    args = parser.parse_args(argv)
    return run_command(lambda: {"status": cmd_status, "prepare": cmd_prepare}[args.command](args), expected=(ValueError,))


if __name__ == "__main__":
    sys.exit(main())
