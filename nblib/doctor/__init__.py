"""``nblib doctor``: what is wrong with a network, the number behind it, the notebook whose evidence
backs the rule, and fixes ranked by that evidence.

    from nblib.doctor import doctor
    diag = doctor(model, images, labels, train_steps=100)   # Diagnosis
    diag.table                                               # findings, critical first
    diag.save("report")                                      # report.md + self-contained report.html

Command line: ``python -m nblib doctor --model MODULE:CALLABLE --input DATA --report-dir DIR``.
"""
from .core import Diagnosis, as_tensors, doctor
from .findings import EVIDENCE, FIXES, SEVERITIES, Evidence, Finding, sort_findings
from .probe import block_names, stream
from .vae import split_outputs

__all__ = ["Diagnosis", "EVIDENCE", "Evidence", "FIXES", "Finding", "SEVERITIES", "as_tensors", "block_names",
           "doctor", "sort_findings", "split_outputs", "stream"]


class _CallableModule(__import__("types").ModuleType):
    """``nblib.doctor(model, data, ...)`` calls :func:`doctor`; the module keeps its attributes."""

    def __call__(self, *args, **kwargs):
        return doctor(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallableModule
