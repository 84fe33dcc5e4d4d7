"""Moved to nblib.engine.hashing (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "fit_hashing": "nblib.engine.hashing",
    "fit_linear_probe": "nblib.engine.hashing",
})
