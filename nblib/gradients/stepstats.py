"""Moved to nblib.dynamics.stepstats (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "EagerStepStatistics": "nblib.dynamics.stepstats",
    "SCALARS": "nblib.dynamics.stepstats",
    "step_statistics": "nblib.dynamics.stepstats",
})
