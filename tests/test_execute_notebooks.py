"""scripts/execute_notebooks.py: the full-mode runner that replaces nbconvert --execute (which can hang
on widget cells). A planted failing cell must be reported, and the cells after it must still run."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "execute_notebooks.py"


def _module():
    spec = importlib.util.spec_from_file_location("execute_notebooks", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_widget_cells_are_recognised():
    widget = _module().WIDGET
    assert widget.search("widgets.interactive(show, k=3)") and widget.search("display(class_browser(g, x))")
    assert widget.search("interact(f, x=1)")
    assert not widget.search("result = interactive_fraction(x)") and not widget.search("print('hi')")


def test_runs_every_cell_reports_the_planted_error_and_keeps_going(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("x = 2"),
        nbformat.v4.new_code_cell("print(x * 21)"),
        nbformat.v4.new_code_cell("raise ValueError('planted')"),
        nbformat.v4.new_code_cell("print('after', x)"),
    ])
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    out_dir = tmp_path / "out"
    run = subprocess.run([sys.executable, str(SCRIPT), str(src), "--out-dir", str(out_dir)], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ERROR ValueError: planted" in run.stdout
    done = nbformat.read(out_dir / "nb.ipynb", as_version=4)
    text = lambda c: "".join(o.get("text", "") for o in c.outputs)
    assert done.cells[0].source == "# title" and text(done.cells[2]) == "42\n"
    assert done.cells[3].outputs[0]["ename"] == "ValueError" and text(done.cells[4]) == "after 2\n"
    assert not (out_dir / "nb.partial.ipynb").exists() and nbformat.read(src, as_version=4).cells[2].outputs == []
