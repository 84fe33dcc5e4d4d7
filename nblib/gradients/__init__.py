"""Optimization insight: per-step gradient and weight dynamics of any model and optimizer."""
from .callback import TrackerCallback
from .plots import per_epoch, plot_dynamics, plot_layer_zero_grads, plot_sign_heatmap
from .tracker import SCALARS, GradientTracker

__all__ = [
    "SCALARS",
    "GradientTracker",
    "TrackerCallback",
    "per_epoch",
    "plot_dynamics",
    "plot_layer_zero_grads",
    "plot_sign_heatmap",
]
