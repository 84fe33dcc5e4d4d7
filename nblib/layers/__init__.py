"""Reusable layers: building blocks of the models, each usable on its own.

SoftMaxPool (a differentiable disjunction), Scale/Mean, GumbelConv2d, positive convolutions,
ConvMaxPool2d, AugMax (the interpretable-network layers of notebooks 05 and 07); the CSVAE's latent
DAG layer (``dag``); the incremental-hashing layer and its algorithms (``hashing``); activations by name.
"""
from .activations import ACTIVATIONS, make_activation
from .softmaxpool import SoftMaxPool, softmax_pool
from .scale import Mean, Scale, group_mean
from .gumbel import GumbelConv2d, anneal_gumbel, gumbel_k_hot, k_hot, relaxed_k_hot
from .positive import PositiveConv2d, positive_weight, raw_from_positive
from .convpool import ConvMaxPool2d, pool_windows
from .augmax import AugMax, augment_views, augmax_scores, view_specs
from .dag import DAGInteractionLayer, banded_adjacency
from .hashing import IncrementalNeuralHashing, SlotMatch

__all__ = ["ACTIVATIONS", "make_activation",
           "SoftMaxPool", "softmax_pool",
           "Mean", "Scale", "group_mean",
           "GumbelConv2d", "anneal_gumbel", "gumbel_k_hot", "k_hot", "relaxed_k_hot",
           "PositiveConv2d", "positive_weight", "raw_from_positive",
           "AugMax", "augment_views", "augmax_scores", "view_specs",
           "ConvMaxPool2d", "pool_windows",
           "DAGInteractionLayer", "banded_adjacency",
           "IncrementalNeuralHashing", "SlotMatch"]
