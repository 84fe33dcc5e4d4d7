"""Execute notebooks headless, cell by cell, and write their outputs in place: the full-mode runs.

    NBLIB_QUICK=0 python scripts/execute_notebooks.py notebooks/[0-9][0-9]_*.ipynb
    OMP_NUM_THREADS=1 NBLIB_QUICK=0 python scripts/execute_notebooks.py notebooks/07_*.ipynb   # one thread

Why not ``jupyter nbconvert --execute``: on cells that display ipywidgets (an ``interactive`` browser)
nbclient sometimes never receives the kernel's reply although the kernel has finished the cell
(jupyter/nbclient#312, jupyter/nbconvert#1921). nbconvert then waits forever with an idle kernel; it
cost two 40-minute runs of notebook 05. Here such cells get a timeout (``--widget-timeout``): the
outputs that arrived are kept and execution goes on with the next cell. Every other cell runs without a
time limit. After every cell the notebook so far is saved beside the output as ``*.partial.ipynb`` (a
long run that dies keeps what it computed), and one line per cell reports the elapsed time and any error.
The executed notebook is written at the end, errors included (shown in their cells, as with
``--allow-errors``); the exit status is 1 if any cell raised.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError

WIDGET = re.compile(r"\binteractive\(|\binteract\(|_browser\(|\bwidgets\.")  # cells that display ipywidgets


def execute(path: Path, widget_timeout: float, out: Path | None = None) -> bool:
    """Run ``path`` cell by cell in a fresh kernel started in its folder; True when no cell raised."""
    out = out or path
    partial = out.with_suffix(".partial.ipynb")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, startup_timeout=600, kernel_name="python3", allow_errors=True,
                            iopub_timeout=30, resources={"metadata": {"path": str(path.parent.resolve())}})
    t0, failed = time.time(), False
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            widget = bool(WIDGET.search(cell.source))
            client.timeout = widget_timeout if widget else None
            note = ""
            try:
                client.execute_cell(cell, i)
            except CellTimeoutError:
                note = f" (widget cell: no reply after {widget_timeout:g} s; outputs kept)"
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                failed = True
                note += f" ERROR {errors[0]['ename']}: {errors[0]['evalue'][:300]}"
            print(f"{path.name} [{time.time() - t0:6.0f} s] cell {i}{note}", flush=True)
            nbformat.write(nb, partial)
    nbformat.write(nb, out)
    partial.unlink(missing_ok=True)
    print(f"{path.name}: wrote {out} after {time.time() - t0:.0f} s" + (" (with errors)" if failed else ""), flush=True)
    return not failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--widget-timeout", type=float, default=240.0,
                        help="seconds to wait for the reply to a cell that displays ipywidgets (default 240)")
    parser.add_argument("--out-dir", type=Path, default=None, help="write the executed notebooks here instead of in place")
    args = parser.parse_args(argv)
    if os.environ.get("NBLIB_QUICK") not in ("0", "1"):
        print("note: NBLIB_QUICK is not set; the notebooks choose their own mode (set NBLIB_QUICK=0 for full runs)")
    ok = True
    for path in args.notebooks:
        out = args.out_dir / path.name if args.out_dir else None
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
        ok &= execute(path, args.widget_timeout, out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
