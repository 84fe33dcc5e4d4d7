"""``python -m nblib COMMAND ...``: the package's commands behind one entry point.

Commands: ``doctor`` (diagnose a network: :mod:`nblib.doctor`). The other tools keep their own
entry points: ``python -m nblib.inspect``, ``python -m nblib.analyze``, ``python -m nblib.data``.
"""
from __future__ import annotations

import sys

from .cli import fail

COMMANDS = {"doctor": "diagnose a network: dead units, redundant layers, training dynamics, VAE latents"}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m nblib COMMAND [options]\n\ncommands:")
        for name, text in COMMANDS.items():
            print(f"  {name:10s} {text}")
        print("\nrun `python -m nblib COMMAND --help` for a command's options")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "doctor":
        from .doctor.__main__ import main as doctor_main

        return doctor_main(rest)
    return fail(f"unknown command {command!r}; use one of {', '.join(COMMANDS)} (see python -m nblib --help)")


if __name__ == "__main__":
    sys.exit(main())
