"""nblib: look inside neural networks and find out why training goes wrong.

**The rule: one package per kind of thing, never per study.** A notebook's code is found by asking
what each piece *is*, not which notebook uses it:

- building: ``data`` (datasets), ``layers`` (layers, each usable alone), ``models`` (architectures),
  ``engine`` (the one training loop with callbacks, and every training recipe on it);
- measuring, one package per kind of measurement: ``inspect`` (activations and feature reports, slot
  usage; ``analyze`` reads saved feature files), ``interpret`` (input gradients and saliency metrics),
  ``correlation`` (layer correlations and CKA), ``dynamics`` (optimiser dynamics: per-step gradient
  and weight statistics), ``latents`` (a VAE's latent codes: KL per unit, active units, MIG),
  ``continual`` (forgetting, replay, OOD scores, a hashing layer's slot updates);
- on top: ``doctor`` (runs the measurements on any model), ``claims`` (the claims ledger),
  ``widgets``, the command lines.

The top level holds the run-time helpers every notebook starts with, the atomic writer and the one
scalar logger (``nblib.scalars``). Old paths (``nblib.train``, ``nblib.train_fast``, ``nblib.vae``,
``nblib.hashing``, ``nblib.gradients``, ``nblib.analyze``) work for one release with a warning.
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
