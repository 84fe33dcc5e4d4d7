"""Per-epoch (or per-step) records in a JSON file that survives interruption.

Every ``append`` rewrites the whole file with :func:`nblib.atomic.write_json_atomic`
(temporary sibling, fsync, rename), so a run killed at any moment leaves either the previous
complete history or the new one, never a truncated file.

``write_text_atomic`` and ``write_json_atomic`` used to live here; they moved to
:mod:`nblib.atomic` (one atomic writer for the whole package) and the old names still work,
with a DeprecationWarning, for one release.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import atomic
from .deprecation import moved

__getattr__ = moved(__name__, "nblib.atomic", ("write_text_atomic", "write_json_atomic"))


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
        atomic.write_json_atomic(self.path, {"meta": self.meta, "records": self.records})

    def frame(self):
        """The records as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        return pd.DataFrame(self.records).set_index("epoch") if self.records else pd.DataFrame()

    @staticmethod
    def load(path: str | Path) -> "JsonHistory":
        if not Path(path).exists():
            raise FileNotFoundError(f"no history at {path}")
        return JsonHistory(path)


__all__ = ["JsonHistory"]
