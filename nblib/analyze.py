"""Moved to :mod:`nblib.inspect.analyze` (issue #14: ``analyze`` lives in the inspection package).

``python -m nblib.analyze`` keeps working; importing from this path works for one release.
"""
import sys

from nblib.deprecation import moved_from

if __name__ == "__main__":
    from nblib.inspect.analyze import main

    sys.exit(main())

__getattr__ = moved_from(__name__)
