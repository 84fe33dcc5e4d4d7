"""nblib: look inside neural networks and find out why training goes wrong.

Subpackages: ``nblib.data`` (datasets), ``nblib.inspect`` (hooks, activation statistics,
plots), ``nblib.models``, ``nblib.widgets``. The top level holds the run-time helpers
every notebook starts with.
"""
from .checkpoints import CheckpointError, load_checkpoint, load_weights, save_checkpoint
from .paths import assets_dir, data_root, save_figure
from .runtime import RunClock, describe_device, device, is_quick, resolve_params, set_seed

__version__ = "0.1.0"


def __getattr__(name):
    """``nblib.doctor`` on first use (``nblib.doctor(model, data)`` runs the diagnosis)."""
    if name == "doctor":
        import importlib

        return importlib.import_module(".doctor", __name__)
    raise AttributeError(f"module 'nblib' has no attribute {name!r}")

__all__ = [
    "CheckpointError",
    "RunClock",
    "assets_dir",
    "data_root",
    "describe_device",
    "device",
    "is_quick",
    "load_checkpoint",
    "load_weights",
    "resolve_params",
    "save_checkpoint",
    "save_figure",
    "set_seed",
]
