"""Optimiser dynamics (notebook 04): per-step gradient and weight statistics of any model and optimiser,
curvature probes, and their plots. (Input gradients for saliency are in :mod:`nblib.interpret`.)"""
from .callback import TrackerCallback
from .curvature import READINGS, flat_grad, hutchinson_diagonal, step_crossings
from .plots import per_epoch, plot_dynamics, plot_layer_zero_grads, plot_sign_heatmap
from .tracker import SCALARS, GradientTracker

__all__ = [
    "READINGS",
    "SCALARS",
    "GradientTracker",
    "TrackerCallback",
    "flat_grad",
    "hutchinson_diagonal",
    "per_epoch",
    "plot_dynamics",
    "plot_layer_zero_grads",
    "plot_sign_heatmap",
    "step_crossings",
]
