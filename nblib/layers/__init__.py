"""Reusable layers: SoftMaxPool (differentiable disjunction) and the interpretable-network layers."""
from .softmaxpool import SoftMaxPool, softmax_pool
from .scale import Mean, Scale, group_mean
from .gumbel import GumbelConv2d, anneal_gumbel, gumbel_k_hot, k_hot, relaxed_k_hot
from .positive import PositiveConv2d, positive_weight, raw_from_positive
from .convpool import ConvMaxPool2d, pool_windows
from .augmax import AugMax, augment_views, augmax_scores, view_specs

__all__ = ["SoftMaxPool", "softmax_pool",
           "Mean", "Scale", "group_mean",
           "GumbelConv2d", "anneal_gumbel", "gumbel_k_hot", "k_hot", "relaxed_k_hot",
           "PositiveConv2d", "positive_weight", "raw_from_positive",
           "AugMax", "augment_views", "augmax_scores", "view_specs",
           "ConvMaxPool2d", "pool_windows"]
