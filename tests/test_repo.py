"""The repository's contract: README commands are what CI runs; notebooks follow the house layout."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_setup_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = readme_commands()
    setup, test = 'pip install -e ".[dev]"', "NBLIB_QUICK=1 pytest"
    assert setup in commands and test in commands
    assert setup in ci and test in ci
    assert any(c.startswith("NBLIB_QUICK=0 jupyter nbconvert") and "--inplace" in c for c in commands)
    assert any(c.startswith("NBLIB_QUICK=0 python scripts/execute_notebooks.py") for c in commands)  # the widget-safe run
    assert "jupyter lab" in commands


def test_pins_agree_between_pyproject_and_environment():
    pyproject = (ROOT / "pyproject.toml").read_text()
    env = (ROOT / "environment.yml").read_text()
    for pin in ("torch==2.14.1", "torchvision==0.29.1"):
        assert pin in pyproject and pin in env
    assert "python=3.11" in env and "-e .[dev]" in env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_layout(path):
    nb = json.loads(path.read_text())
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    code = [c for c in cells if c["cell_type"] == "code"]
    imports = "".join(code[0]["source"])
    assert "import nblib" in imports or "from nblib" in imports
    assert "sys.path" not in imports and "%pip" not in imports
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and params[0] is code[1], "one parameters cell, right after the imports"
    assert any("assert " in "".join(c["source"]) for c in code)
    assert all(c.get("outputs") is not None for c in code)
    assert any(c.get("outputs") for c in code), "committed with the outputs of a full run"
    text = json.dumps(nb)
    assert "mode: FULL" in text, "the committed outputs are from a full-mode run"
    assert "runtime:" in "".join("".join(c["source"]) for c in code) or "runtime:" in text
