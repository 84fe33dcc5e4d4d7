"""Moved (issue #14, one axis of packages) to nblib.layers.hashing (the layer and its algorithms), nblib.engine.hashing (its training loop) and nblib.continual (its evaluation, baselines, OOD scores);
this path works for one release."""
from nblib.deprecation import moved_from

__getattr__ = moved_from(__name__)
