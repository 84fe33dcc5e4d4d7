"""Moved to nblib.layers.activations, nblib.models.vae_encoders (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "ACTIVATIONS": "nblib.layers.activations",
    "FCDecoder": "nblib.models.vae_encoders",
    "GaussianHead": "nblib.models.vae_encoders",
    "HEADS": "nblib.models.vae_encoders",
    "SimpleFCNNEncoder": "nblib.models.vae_encoders",
    "make_activation": "nblib.layers.activations",
    "mlp": "nblib.models.vae_encoders",
})
