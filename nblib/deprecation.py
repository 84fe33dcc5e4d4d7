"""Old import paths kept working for one release, with a DeprecationWarning naming the new one.

Issue #14 moves shared pieces (the atomic writer, the dataset statistics, ...) to one place
each; a module that lost names sets ``__getattr__ = moved(__name__, "new.module", names)``,
so existing notebooks and scripts keep running and say what to change.
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable


def moved(old_module: str, new_module: str, names: Iterable[str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` serving ``names`` from ``new_module`` with a DeprecationWarning."""
    names = frozenset(names)

    def __getattr__(name: str):
        if name in names:
            warnings.warn(f"{old_module}.{name} moved to {new_module}.{name}; import it from there "
                          "(the old path goes in the next release)", DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(new_module), name)
        raise AttributeError(f"module {old_module!r} has no attribute {name!r}")

    return __getattr__


__all__ = ["moved"]
