"""Per-epoch (or per-step) records in a JSON file that survives interruption.

Every ``append`` rewrites the whole file to a temporary sibling and renames it over the old
one (``os.replace`` is atomic on POSIX and Windows), so a run killed at any moment leaves
either the previous complete history or the new one, never a truncated file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary sibling, fsync it, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json_atomic(path: str | Path, data) -> Path:
    """:func:`write_text_atomic` of ``data`` as indented JSON."""
    return write_text_atomic(path, json.dumps(data, indent=1))


class JsonHistory:
    """``{"records": [{"epoch": e, ...values}, ...], "meta": {...}}`` kept on disk.

    Reopening an existing file continues it, so an interrupted run can resume and the file
    is readable at every point.
    """

    def __init__(self, path: str | Path, meta: dict | None = None):
        self.path = Path(path)
        if self.path.exists():
            data = json.loads(self.path.read_text())
            self.records, self.meta = data["records"], {**data.get("meta", {}), **(meta or {})}
        else:
            self.records, self.meta = [], dict(meta or {})

    def append(self, epoch: int, values: dict) -> None:
        self.records.append({"epoch": epoch, **values})
        write_json_atomic(self.path, {"meta": self.meta, "records": self.records})

    def frame(self):
        """The records as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        return pd.DataFrame(self.records).set_index("epoch") if self.records else pd.DataFrame()

    @staticmethod
    def load(path: str | Path) -> "JsonHistory":
        if not Path(path).exists():
            raise FileNotFoundError(f"no history at {path}")
        return JsonHistory(path)
