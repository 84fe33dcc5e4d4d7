"""Moved to nblib.dynamics.callback (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "TrackerCallback": "nblib.dynamics.callback",
})
