"""Moved to nblib.continual.baselines (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "ReplayBuffer": "nblib.continual.baselines",
    "class_means": "nblib.continual.baselines",
    "forgetting": "nblib.continual.baselines",
    "nearest_class_mean_predict": "nblib.continual.baselines",
})
