"""Import hygiene (issue #14): the models and the training code import without matplotlib and without
nblib.inspect, so nothing cycles between inspect and models and a training job never loads a plotting stack.

Checked in a fresh interpreter: in the test process other tests have long imported everything.
"""
import subprocess
import sys

# every architecture, layer and training recipe, the data and the latent / continual measurements (their plots
# load on first use)
LIGHT = ("nblib.models", "nblib.layers", "nblib.engine", "nblib.data", "nblib.latents", "nblib.continual",
         "nblib.atomic", "nblib.history", "nblib.scalars")


def test_models_and_training_import_without_matplotlib_or_inspect():
    code = (
        "import sys\n"
        f"for name in {LIGHT!r}:\n"
        "    __import__(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' or m.startswith('nblib.inspect'))\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
