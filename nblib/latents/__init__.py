"""Measurements of a VAE's latent codes (notebook 02), for any VAE with diagonal Gaussian posteriors.

- :mod:`.diagnostics`: KL per unit, active units, mu histograms, factor mutual information and MIG,
  loss fluctuation;
- :mod:`.evaluate`: the codes, ELBO terms and reconstructions of a :class:`~nblib.models.csvae.CSVAE`
  over a dataset;
- :mod:`.tensorboard`: all of it per epoch to TensorBoard, for every layer;
- :mod:`.plots`: the figures (imported on first use, so the rest loads without matplotlib).

The model is :mod:`nblib.models.csvae`; its training loop :func:`nblib.engine.csvae.train_csvae`.
"""
import importlib

from .diagnostics import (LayerCodes, active_units, factor_mutual_information, fluctuation_explained_by, gaussian_kl,
                          histogram_edges, loss_fluctuation, mu_histograms, mutual_information_gap)
from .evaluate import encode_dataset, evaluate, reconstruct
from .tensorboard import LatentTensorBoardLogger

PLOTS = ("plot_batch_mean_vs_histogram", "plot_factor_scores", "plot_kl_per_unit", "plot_loss_curves",
         "plot_mu_histograms", "plot_reconstruction_grid")


def __getattr__(name):
    if name in PLOTS:
        return getattr(importlib.import_module(".plots", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LatentTensorBoardLogger",
    "LayerCodes",
    "active_units",
    "encode_dataset",
    "evaluate",
    "factor_mutual_information",
    "fluctuation_explained_by",
    "gaussian_kl",
    "histogram_edges",
    "loss_fluctuation",
    "mu_histograms",
    "mutual_information_gap",
    "reconstruct",
    *PLOTS,
]
