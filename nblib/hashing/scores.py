"""Moved to nblib.layers.hashing.scores (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "as_views": "nblib.layers.hashing.scores",
    "max_norm_view": "nblib.layers.hashing.scores",
    "slot_scores": "nblib.layers.hashing.scores",
})
