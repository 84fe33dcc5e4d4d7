"""What the three command-line tools share: one error type, one ``fail()``, staged output.

``python -m nblib.inspect``, ``python -m nblib.analyze`` and ``python -m nblib.data`` (and
their console scripts) end every bad input the same way: one line on stderr,
``error: <the problem>; <the fix>``, exit code 2, no traceback, and nothing left on disk.

- :class:`InputError` is the one error type: raise it (or a subclass) with a message that
  names the problem and the fix.
- :func:`fail` prints that line and returns 2.
- :class:`Parser` is an ``argparse.ArgumentParser`` whose usage errors are one line too.
- :func:`run_command` runs a command's body, turns ``InputError`` (and the errors of
  loaders that predate it), ``KeyboardInterrupt`` and SIGTERM into ``fail()``.
- :class:`StagedDir` collects a command's output files in a temporary folder next to the
  destination and moves them into place only at the end; on error or interrupt the
  temporary folder is removed, so no partial file or folder is left behind.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .atomic import fsync_dir, fsync_path

EXIT_BAD_INPUT = 2


class InputError(ValueError):
    """Bad input to a command or loader. The message names the problem and the fix, on one line."""


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace (torch's multi-paragraph messages) and cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail(message: str) -> int:
    """Print ``error: message`` as one line on stderr and return the exit code (2)."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one ``error:`` line (exit 2), not usage + message."""

    def error(self, message: str):  # noqa: D102 (argparse API)
        sys.exit(fail(f"{message} (see {self.prog} --help)"))


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite float (rejects nan and inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_command(body: Callable[[], int], expected: tuple[type[BaseException], ...] = ()) -> int:
    """Run ``body()`` and turn bad input and interrupts into one error line and exit code 2.

    Args:
        body: the command; returns its exit code.
        expected: further exception types that mean bad input (a loader's own errors).
    """
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    try:
        return body()
    except (InputError, *expected) as exc:
        return fail(str(exc).strip("'\""))
    except KeyboardInterrupt:
        return fail("interrupted; partial output was removed, nothing was written")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def check_output_dir(path: str | Path, flag: str = "--save-dir") -> Path:
    """The output folder, if it can be written: raises :class:`InputError` otherwise.

    Nothing is created here. The nearest existing ancestor must be a folder we can write to,
    and ``path`` itself, if it exists, must be a folder.
    """
    path = Path(path).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path} is a file, not a folder; pass a folder path")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{flag} {path}: {ancestor} is a file, not a folder; pass a folder path")
    if not os.access(ancestor, os.W_OK):
        raise InputError(f"{flag} {path}: no permission to write in {ancestor}; pass a folder you can write to")
    return path


class StagedDir:
    """Write a command's files into a temporary folder, then move them to ``dest`` at the end.

        with StagedDir(save_dir) as stage:
            fig.savefig(stage.path / "a.png")
            stage.commit()            # files appear in save_dir; without it nothing does

    The temporary folder sits in ``dest``'s nearest existing ancestor (same file system, so
    every move is a rename). Leaving the block without :meth:`commit` (error, interrupt)
    deletes it. Files already in ``dest`` are kept, except those replaced by name.
    """

    def __init__(self, dest: str | Path, flag: str = "--save-dir"):
        self.dest = check_output_dir(dest, flag)
        anchor = self.dest
        while not anchor.exists():
            anchor = anchor.parent
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.dest.name or 'out'}.", suffix=".tmp", dir=anchor))
        except OSError as exc:
            raise InputError(f"{flag} {self.dest}: cannot write in {anchor} ({exc.strerror}); "
                             "pass a folder you can write to") from None
        self.committed = False

    def __enter__(self) -> "StagedDir":
        return self

    def commit(self) -> Path:
        """Move every staged file into ``dest`` (renames) and remove the temporary folder.

        Each staged file is fsynced before the renames and the destination folder after them,
        as :mod:`nblib.atomic` does for single files: a crash just after the commit cannot
        leave a renamed but empty file.
        """
        try:
            for item in self.path.rglob("*"):
                if item.is_file() and not item.is_symlink():
                    fsync_path(item)
            if not self.dest.exists():
                self.dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.path, self.dest)
                fsync_dir(self.dest.parent)
            else:
                for item in sorted(self.path.iterdir()):
                    os.replace(item, self.dest / item.name)
                self.path.rmdir()
                fsync_dir(self.dest)
        except OSError as exc:
            raise InputError(f"cannot move the output into {self.dest} ({exc.strerror}); "
                             "pass a folder you can write to") from None
        self.committed = True
        return self.dest

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        if not self.committed:
            self.discard()


__all__ = [
    "EXIT_BAD_INPUT", "InputError", "Parser", "StagedDir", "check_output_dir", "fail", "finite_float",
    "one_line", "positive_int", "run_command",
]
