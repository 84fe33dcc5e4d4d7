"""Moved to nblib.layers.hashing.setcover (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "BATCH": "nblib.layers.hashing.setcover",
    "CPU_NUMPY": "nblib.layers.hashing.setcover",
    "SetCover": "nblib.layers.hashing.setcover",
    "greedy_approximation_bound": "nblib.layers.hashing.setcover",
    "greedy_set_cover": "nblib.layers.hashing.setcover",
    "greedy_set_cover_lazy": "nblib.layers.hashing.setcover",
    "greedy_set_cover_python": "nblib.layers.hashing.setcover",
})
