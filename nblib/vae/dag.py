"""Moved to nblib.layers.dag (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "DAGInteractionLayer": "nblib.layers.dag",
    "banded_adjacency": "nblib.layers.dag",
})
