"""Moved to nblib.engine.csvae, nblib.latents.evaluate, nblib.models.csvae (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "CSVAE": "nblib.models.csvae",
    "VAEHistory": "nblib.engine.csvae",
    "encode_dataset": "nblib.latents.evaluate",
    "evaluate": "nblib.latents.evaluate",
    "reconstruct": "nblib.latents.evaluate",
    "train_csvae": "nblib.engine.csvae",
})
