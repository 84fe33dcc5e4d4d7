"""Moved (issue #14, one axis of packages) to nblib.models.csvae (the CSVAE), nblib.latents (its diagnostics, plots, TensorBoard log) and nblib.engine.csvae (its training loop);
this path works for one release."""
from nblib.deprecation import moved_from

__getattr__ = moved_from(__name__)
