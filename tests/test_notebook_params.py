"""Papermill can reach every notebook's parameters, and an override takes effect."""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def parameters_cell(nb: dict) -> dict:
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1
    return cells[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_parameters_are_literal_assignments_with_units(path):
    src = "".join(parameters_cell(json.loads(path.read_text()))["source"])
    body = ast.parse(src).body
    assert body, "an empty parameters cell"
    for stmt in body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name), \
            f"line {stmt.lineno}: not NAME = literal (papermill -p cannot reach it)"
        ast.literal_eval(stmt.value)                          # raises on anything but a literal
    for line in src.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and line[0] not in " )]}":
            assert "#" in line, f"no unit comment on: {line}"
    # every parameter reaches resolve_params by name in the next code cell
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    nxt = "".join(code[code.index(parameters_cell(nb)) + 1]["source"])
    assert "resolve_params(" in nxt
    for stmt in body:
        name = stmt.targets[0].id
        assert f"{name}={name}" in nxt.replace(" ", ""), f"parameter {name!r} is not passed to resolve_params"


def test_papermill_override_takes_effect(tmp_path):
    papermill = pytest.importorskip("papermill")
    src = ROOT / "notebooks" / "03_mlp_layer_correlations.ipynb"
    out = tmp_path / "03_seed7.ipynb"
    papermill.execute_notebook(str(src), str(out), parameters={"seed": 7, "views": 11}, prepare_only=True)
    nb = json.loads(out.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    injected = [i for i, c in enumerate(code) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(injected) == 1
    # run the notebook's own first cells: imports, parameters, injected overrides, resolve_params
    namespace: dict = {}
    for cell in code[: injected[0] + 2]:
        exec(compile("".join(cell["source"]), "cell", "exec"), namespace)
    assert namespace["P"].seed == 7
    assert namespace["P"].views == (11 if not namespace["P"].quick else 60), "quick mode still shrinks sizes"
