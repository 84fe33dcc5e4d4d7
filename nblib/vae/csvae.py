"""Moved to nblib.models.csvae (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "CSVAE": "nblib.models.csvae",
    "CSVAEOutput": "nblib.models.csvae",
    "KLSchedule": "nblib.models.csvae",
    "LatentLayer": "nblib.models.csvae",
    "POSTERIORS": "nblib.models.csvae",
    "RECON_REDUCTIONS": "nblib.models.csvae",
    "csvae_loss": "nblib.models.csvae",
})
