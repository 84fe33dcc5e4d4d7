"""Moved to nblib.latents.diagnostics, nblib.models.vae_encoders (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "LayerCodes": "nblib.latents.diagnostics",
    "active_units": "nblib.latents.diagnostics",
    "factor_mutual_information": "nblib.latents.diagnostics",
    "fluctuation_explained_by": "nblib.latents.diagnostics",
    "gaussian_kl": "nblib.models.vae_encoders",
    "histogram_edges": "nblib.latents.diagnostics",
    "loss_fluctuation": "nblib.latents.diagnostics",
    "mu_histograms": "nblib.latents.diagnostics",
    "mutual_information_gap": "nblib.latents.diagnostics",
})
