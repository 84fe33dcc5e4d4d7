"""Moved to nblib.engine.schedules (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved_from

__getattr__ = moved_from(__name__)
