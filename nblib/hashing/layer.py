"""Moved to nblib.layers.hashing.layer (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "IncrementalNeuralHashing": "nblib.layers.hashing.layer",
    "PAD": "nblib.layers.hashing.layer",
    "SlotMatch": "nblib.layers.hashing.layer",
})
