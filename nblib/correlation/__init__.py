"""Layer-wise correlation analysis: cross-correlation between and within layers, linear CKA,
per-epoch history in JSON, augmentation-driven feature variance, and their plots."""
from .augment import augment_views, augmentation_spread, spread_per_input
from .cka import MinibatchCKA, cka_matrix, gram_linear, hsic, linear_cka
from .core import (
    correlation_summary,
    cross_correlation,
    feature_order,
    get_intermediate_outputs,
    layerwise_cross_correlation,
    mean_abs_correlation,
    sample_correlation,
    standardize,
)
from ..atomic import write_json_atomic
from ..history import JsonHistory
from .nulls import shuffle_features, shuffled_feature_correlation, shuffled_sample_cka
from .plots import (
    plot_augmentation_spread,
    plot_cka,
    plot_correlation_evolution,
    plot_correlation_heatmap,
    plot_layer_correlations,
    plot_views,
)

__all__ = [
    "MinibatchCKA",
    "gram_linear",
    "hsic",
    "JsonHistory",
    "augment_views",
    "augmentation_spread",
    "cka_matrix",
    "correlation_summary",
    "cross_correlation",
    "feature_order",
    "get_intermediate_outputs",
    "layerwise_cross_correlation",
    "linear_cka",
    "mean_abs_correlation",
    "plot_augmentation_spread",
    "plot_cka",
    "plot_correlation_evolution",
    "plot_correlation_heatmap",
    "plot_layer_correlations",
    "plot_views",
    "sample_correlation",
    "shuffle_features",
    "shuffled_feature_correlation",
    "shuffled_sample_cka",
    "spread_per_input",
    "standardize",
    "write_json_atomic",
]
