"""Moved (issue #14, one axis of packages) to nblib.dynamics (optimiser dynamics);
this path works for one release."""
from nblib.deprecation import moved_from

__getattr__ = moved_from(__name__)
