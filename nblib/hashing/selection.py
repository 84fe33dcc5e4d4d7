"""Moved to nblib.layers.hashing.selection (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "STRATEGIES": "nblib.layers.hashing.selection",
    "cover_of": "nblib.layers.hashing.selection",
    "select_slots": "nblib.layers.hashing.selection",
    "slot_selector": "nblib.layers.hashing.selection",
})
