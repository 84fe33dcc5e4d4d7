"""pytest set-up shared by the unit tests and the notebooks run by nbval.

- Quick mode by default (``NBLIB_QUICK=1``), inherited by notebook kernels; run
  ``NBLIB_QUICK=0 pytest`` to execute the full experiments instead.
- A non-interactive matplotlib backend for the unit tests.
- nbval (run with ``--nbval-lax``) never compares volatile outputs: widget views,
  HTML/JS renderings, images and stderr (progress bars, warnings).
"""
import os

os.environ.setdefault("NBLIB_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

VOLATILE_OUTPUTS = (
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
    "application/javascript",
    "text/html",
    "image/png",
    "image/svg+xml",
    "stderr",
)


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += VOLATILE_OUTPUTS
