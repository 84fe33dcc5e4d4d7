"""The package axis (issue #14): one package per kind of thing, stated in nblib's docstring, and every old
import path still working for one release, with a DeprecationWarning, to the very same object.

The registry ``nblib.moves.MOVED`` lists every public name the old modules had; each entry is checked
here against the object at its new place, so a wrong or missing target fails."""
import importlib
import pkgutil
import subprocess
import sys
import warnings

import pytest

import nblib
from nblib.moves import MOVED

PAIRS = [(old, name) for old, names in MOVED.items() for name in names]


@pytest.mark.parametrize("old,name", PAIRS, ids=[f"{o}.{n}" for o, n in PAIRS])
def test_old_path_warns_and_gives_the_same_object(old, name):
    module, _, new_name = MOVED[old][name].partition(":")
    with pytest.warns(DeprecationWarning, match=f"{old}.{name} moved to {module}"):
        got = getattr(importlib.import_module(old), name)
    assert got is getattr(importlib.import_module(module), new_name or name)


def test_every_package_is_named_in_the_rule():
    doc = nblib.__doc__
    packages = [m.name for m in pkgutil.iter_modules(nblib.__path__) if m.ispkg]
    old = {"vae", "hashing", "gradients"}
    assert all(f"``{p}``" in doc for p in packages if p not in old), [p for p in packages if f"``{p}``" not in doc]


def test_new_paths_import_without_warnings():
    code = ("import warnings; warnings.simplefilter('error')\n"
            "import nblib.engine, nblib.models, nblib.layers, nblib.latents, nblib.continual, nblib.dynamics, "
            "nblib.inspect.analyze, nblib.doctor, nblib.interpret, nblib.correlation, nblib.claims\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_python_m_nblib_analyze_still_runs():
    run = subprocess.run([sys.executable, "-m", "nblib.analyze", "--help"], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0 and "usage: python -m nblib.analyze" in run.stdout, run.stderr[-2000:]
