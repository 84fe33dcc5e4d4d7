"""Old import paths kept working for one release, with a DeprecationWarning naming the new one.

Issue #14 moves shared pieces (the atomic writer, the dataset statistics, ...) to one place
each; a module that lost names sets ``__getattr__ = moved(__name__, "new.module", names)``,
so existing notebooks and scripts keep running and say what to change.
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable, Mapping


def moved(old_module: str, new_module: str | None, names: Iterable[str] | Mapping[str, str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` serving moved names with a DeprecationWarning naming the new place.

    Args:
        old_module: the module that lost the names (its ``__name__``).
        new_module: where all of them went; or None when ``names`` maps each name to its own
            ``"package.module"`` or ``"package.module:new_name"`` (a name that was also renamed).
        names: the names, or name -> new place.
    """
    places = dict(names) if isinstance(names, Mapping) else {n: new_module for n in names}

    def __getattr__(name: str):
        if name in places:
            module, _, new_name = places[name].partition(":")
            new_name = new_name or name
            warnings.warn(f"{old_module}.{name} moved to {module}.{new_name}; import it from there "
                          "(the old path goes in the next release)", DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(module), new_name)
        raise AttributeError(f"module {old_module!r} has no attribute {name!r}")

    return __getattr__


def moved_from(old_module: str) -> Callable[[str], object]:
    """``moved`` for a module listed in :data:`nblib.moves.MOVED` (the names issue #14 moved)."""
    from .moves import MOVED

    return moved(old_module, None, MOVED[old_module])


__all__ = ["moved", "moved_from"]
