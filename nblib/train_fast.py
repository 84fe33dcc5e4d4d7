"""Moved to nblib.engine.cifar (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "CIFAR10_MEAN": "nblib.engine.cifar",
    "CIFAR10_STD": "nblib.engine.cifar",
    "FitResult": "nblib.engine.cifar",
    "decay_groups": "nblib.engine.cifar",
    "evaluate": "nblib.engine.cifar",
    "fit_fast": "nblib.engine.cifar",
    "fit_seeds": "nblib.engine.cifar",
    "triangle_schedule": "nblib.engine.cifar",
})
