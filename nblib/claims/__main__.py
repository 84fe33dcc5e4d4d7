"""``python -m nblib.claims readme``: regenerate README's verdict table from results/*.json."""
import argparse
import sys

from .readme import update_readme


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nblib.claims", description=__doc__)
    parser.add_argument("command", choices=["readme"], help="readme: rewrite the generated block of README.md")
    parser.parse_args(argv)
    try:
        changed = update_readme()
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("README.md updated" if changed else "README.md already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
