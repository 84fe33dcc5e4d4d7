"""Moved to nblib.dynamics.tracker (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "GradientTracker": "nblib.dynamics.tracker",
    "SCALARS": "nblib.dynamics.tracker",
})
