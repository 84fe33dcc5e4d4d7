"""Moved to nblib.layers.hashing.thresholds (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "BatchThresholds": "nblib.layers.hashing.thresholds",
    "NO_NEGATIVES": "nblib.layers.hashing.thresholds",
    "precision_on_batch": "nblib.layers.hashing.thresholds",
    "precision_thresholds": "nblib.layers.hashing.thresholds",
    "thresholds_in_force": "nblib.layers.hashing.thresholds",
    "update_running_thresholds": "nblib.layers.hashing.thresholds",
})
