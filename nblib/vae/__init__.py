"""Hierarchical VAEs and latent diagnostics.

- :mod:`nblib.vae.csvae`: ``CSVAE`` (bottom-up encoders, a latent DAG, top-down conditional priors),
  its loss and ``KLSchedule``; building blocks in :mod:`.encoders` and :mod:`.dag`.
- :mod:`nblib.vae.diagnostics`: KL per unit, active units, mu histograms, factor mutual information
  (for any VAE with diagonal Gaussian posteriors); :mod:`.tblog` writes them to TensorBoard.
- :mod:`nblib.vae.training`: a training loop that records all of it; :mod:`.plots` draws it.
"""
from .csvae import CSVAE, CSVAEOutput, KLSchedule, LatentLayer, csvae_loss
from .dag import DAGInteractionLayer, banded_adjacency
from .diagnostics import (
    LayerCodes,
    active_units,
    factor_mutual_information,
    fluctuation_explained_by,
    gaussian_kl,
    histogram_edges,
    loss_fluctuation,
    mu_histograms,
    mutual_information_gap,
)
from .encoders import FCDecoder, GaussianHead, SimpleFCNNEncoder
from .plots import (
    plot_batch_mean_vs_histogram,
    plot_factor_scores,
    plot_kl_per_unit,
    plot_loss_curves,
    plot_mu_histograms,
    plot_reconstruction_grid,
)
from .tblog import LatentTensorBoardLogger
from .training import VAEHistory, encode_dataset, evaluate, reconstruct, train_csvae

__all__ = [
    "CSVAE",
    "CSVAEOutput",
    "DAGInteractionLayer",
    "FCDecoder",
    "GaussianHead",
    "KLSchedule",
    "LatentLayer",
    "LatentTensorBoardLogger",
    "LayerCodes",
    "SimpleFCNNEncoder",
    "VAEHistory",
    "active_units",
    "banded_adjacency",
    "csvae_loss",
    "encode_dataset",
    "evaluate",
    "factor_mutual_information",
    "fluctuation_explained_by",
    "gaussian_kl",
    "histogram_edges",
    "loss_fluctuation",
    "mu_histograms",
    "mutual_information_gap",
    "plot_batch_mean_vs_histogram",
    "plot_factor_scores",
    "plot_kl_per_unit",
    "plot_loss_curves",
    "plot_mu_histograms",
    "plot_reconstruction_grid",
    "reconstruct",
    "train_csvae",
]
