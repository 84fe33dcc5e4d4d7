"""Moved to nblib.dynamics.curvature (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "READINGS": "nblib.dynamics.curvature",
    "flat_grad": "nblib.dynamics.curvature",
    "hutchinson_diagonal": "nblib.dynamics.curvature",
    "step_crossings": "nblib.dynamics.curvature",
})
