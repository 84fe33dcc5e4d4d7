"""Feature-map inspection: hooks, activation statistics, plots, storage.

The command line lives in ``python -m nblib.inspect`` (extraction from any model:
``--model MODULE:CALLABLE``, ``--input`` images or tensors) and ``python -m nblib.analyze``
(analysis of a saved file).
"""
from .hooks import ActivationCache, Inspector, count_hooks, leaf_names, resolve_names, run_with_cache
from .plots import (
    plot_channel_stats,
    plot_distribution,
    plot_feature_maps,
    plot_layer_comparison,
    plot_model_comparison,
    plot_report,
    plot_spatial_patterns,
    plot_spatial_similarity,
)
from .stats import (
    ChannelAccumulator,
    channel_entropy,
    channel_stats,
    dead_channels,
    layer_summary,
    masked_channel_entropy,
    masked_dead_channels,
    masked_mean,
    masked_sparsity,
    sparsity,
    spatial_diversity,
    spatial_similarity,
    summarize,
    value_histogram,
)
from .storage import FeatureFile, load_features, save_features
from .inputs import UserInput, load_input
from .loading import BuiltModel, build_from_spec
from .thresholds import (
    ARC_NOTES,
    DEFAULT_THRESHOLDS,
    INSPECTION_GUIDE,
    PROFILES,
    RELATIVE_TO_INIT,
    RelativeRule,
    Threshold,
    reinitialised_copy,
)
from .report import FeatureReport, feature_report
from .slot_metrics import arc_objects, attention_entropy, fg_ari, winning_slots
from .slots import (
    ARC_CMAP,
    ARC_PALETTE,
    attention_shares,
    cell_accuracy,
    grid_image,
    plot_slot_masks,
    slot_usage,
)

__all__ = [
    "BuiltModel",
    "UserInput",
    "build_from_spec",
    "load_input",
    "ARC_NOTES",
    "INSPECTION_GUIDE",
    "PROFILES",
    "RELATIVE_TO_INIT",
    "RelativeRule",
    "reinitialised_copy",
    "ARC_CMAP",
    "ARC_PALETTE",
    "DEFAULT_THRESHOLDS",
    "FeatureReport",
    "Threshold",
    "arc_objects",
    "attention_entropy",
    "fg_ari",
    "winning_slots",
    "attention_shares",
    "cell_accuracy",
    "feature_report",
    "grid_image",
    "masked_channel_entropy",
    "masked_dead_channels",
    "masked_mean",
    "masked_sparsity",
    "plot_report",
    "plot_slot_masks",
    "slot_usage",
    "ActivationCache",
    "ChannelAccumulator",
    "FeatureFile",
    "Inspector",
    "channel_entropy",
    "channel_stats",
    "count_hooks",
    "dead_channels",
    "layer_summary",
    "leaf_names",
    "load_features",
    "plot_channel_stats",
    "plot_distribution",
    "plot_feature_maps",
    "plot_layer_comparison",
    "plot_model_comparison",
    "plot_spatial_patterns",
    "plot_spatial_similarity",
    "resolve_names",
    "run_with_cache",
    "save_features",
    "sparsity",
    "spatial_diversity",
    "spatial_similarity",
    "summarize",
    "value_histogram",
]
