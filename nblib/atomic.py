"""Atomic file writes: a reader (or a resumed run) sees the old complete file or the new one, never a torn one.

Every file nblib writes as a result (JSON histories and ledgers, README blocks, checkpoints,
feature files) goes through :func:`atomic_path`: the data go to a temporary sibling (same
folder, so the same file system and the rename cannot become a copy), are flushed to disk
with ``fsync``, and only then is the sibling renamed over the target with ``os.replace``
(atomic on POSIX and Windows). The fsync is what makes the rename safe: without it a crash
soon after the rename can leave the new name pointing at an empty or partial file on file
systems with delayed allocation (ext4, XFS), because the rename may reach the disk before
the data. On POSIX the folder is fsynced after the rename as well, so the rename itself
survives a crash. A write that fails (exception, interrupt) removes the temporary file and
leaves the old file untouched.

    write_json_atomic("results/03_claims.json", ledger)
    write_torch_atomic("ckpt/epoch003.pt", {"state_dict": model.state_dict()})
    with atomic_path("features.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)

Temporary names are unique per write (``.NAME.PID.RANDOM.tmp``), so two processes writing
the same target never write into one temporary file; the last rename wins.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_path(path: str | Path) -> None:
    """Flush a written file's data to disk (``os.fsync`` on a fresh descriptor)."""
    fd = os.open(path, os.O_RDONLY if os.name == "posix" else os.O_RDWR)  # Windows' fsync needs write access
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | Path) -> None:
    """Make renames in ``folder`` durable (POSIX only; a file system refusing it is not an error)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (and some network mounts) refuse fsync on a folder
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write to; on a clean exit it is fsynced and renamed over ``path``.

    The parent folder is created if missing. On an exception inside the block the temporary
    file is removed and ``path`` is left as it was (absent, or the old complete file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, encoding: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically; ``encoding`` as :meth:`pathlib.Path.write_text` (locale default)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_json_atomic(path: str | Path, data) -> Path:
    """:func:`write_text_atomic` of ``data`` as indented JSON (``indent=1``: diff-friendly, still compact)."""
    return write_text_atomic(path, json.dumps(data, indent=1))


def write_torch_atomic(path: str | Path, obj) -> Path:
    """``torch.save(obj, path)``, atomically: a checkpoint is never half-written when a run is killed."""
    import torch  # imported here: JSON writers should not pay for torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


__all__ = [
    "atomic_path", "fsync_dir", "fsync_path", "write_bytes_atomic", "write_json_atomic", "write_text_atomic",
    "write_torch_atomic",
]
