"""``python -m nblib.data status`` and ``python -m nblib.data prepare NAME --from PATH``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..paths import DATA_ENV, data_root
from . import arc, cifar10, dsprites, mnist
from .common import DataNotFoundError

STATUS = {"arc": arc.status, "dsprites": dsprites.status, "mnist": mnist.status, "cifar10": cifar10.status}


def cmd_status(_args) -> int:
    print(f"data root: {data_root()}  (set ${DATA_ENV} to move it)")
    for name, fn in STATUS.items():
        print(f"  {name:9s} {fn()}")
    return 0


def cmd_prepare(args) -> int:
    if args.name in {"arc", "dsprites"}:
        print(f"{args.name}: nothing to prepare ({STATUS[args.name]()})")
        return 0
    if not args.src and not args.download:
        print(f"error: give --from PATH or --download for {args.name}", file=sys.stderr)
        return 2
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
    parser = argparse.ArgumentParser(prog="python -m nblib.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="list each dataset, where it was found and its size")
    prep = sub.add_parser("prepare", help="import local files (or download) into the data root")
    prep.add_argument("name", choices=list(STATUS))
    prep.add_argument("--from", dest="src", metavar="PATH", help="folder or archive holding the files")
    prep.add_argument("--download", action="store_true", help="fetch with torchvision (needs network)")
    args = parser.parse_args(argv)
    try:
        return {"status": cmd_status, "prepare": cmd_prepare}[args.command](args)
    except (DataNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
