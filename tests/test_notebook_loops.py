"""Notebooks hold no training loops (issue #14): every loop is a recipe on nblib's engine.

A code cell that calls ``.backward(`` or any ``.step(`` (an optimiser's or a scheduler's) is a
training loop written inside a notebook; it belongs in ``nblib.engine`` where it is tested and pinned.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
LOOP = re.compile(r"\.backward\(|\.step\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_training_loop_in_a_notebook(path):
    cells = json.loads(path.read_text())["cells"]
    hits = [(i, line.strip()) for i, c in enumerate(cells) if c["cell_type"] == "code"
            for line in "".join(c["source"]).splitlines() if LOOP.search(line) and not line.strip().startswith("#")]
    assert not hits, f"{path.name}: training-loop calls in code cells (move them to nblib.engine): {hits}"


def test_the_check_finds_a_planted_loop(tmp_path):
    planted = "for x, y in batches:\n    loss = F.cross_entropy(model(x), y)\n    loss.backward()\n    opt.step()\n"
    assert len([line for line in planted.splitlines() if LOOP.search(line)]) == 2
