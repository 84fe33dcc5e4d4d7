"""Moved to nblib.latents.plots (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "plot_batch_mean_vs_histogram": "nblib.latents.plots",
    "plot_factor_scores": "nblib.latents.plots",
    "plot_kl_per_unit": "nblib.latents.plots",
    "plot_loss_curves": "nblib.latents.plots",
    "plot_mu_histograms": "nblib.latents.plots",
    "plot_reconstruction_grid": "nblib.latents.plots",
})
