"""Where things live: the data root, the figures gallery (``assets/``), scratch space."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .runtime import is_quick

DATA_ENV = "NBLIB_DATA"
#: The repository checkout this package sits in (``nblib/..``), when installed editable.
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The one data root: ``$NBLIB_DATA`` if set, else ``<repo>/data``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / "data"


def assets_dir() -> Path:
    """Where notebooks save the figures the README shows.

    Quick (smoke) runs write to a scratch folder instead, so a local test run never
    overwrites the committed full-mode figures.
    """
    if is_quick():
        path = Path(tempfile.gettempdir()) / "nblib-quick-assets"
    else:
        path = REPO_ROOT / "assets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name: str, dpi: int = 110) -> Path:
    """Save a matplotlib figure as ``assets/<name>`` (scratch folder in quick mode)."""
    path = assets_dir() / name
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
