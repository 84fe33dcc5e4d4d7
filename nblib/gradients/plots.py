"""Moved to nblib.dynamics.plots (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "PANELS": "nblib.dynamics.plots",
    "SIGN_COLOURS": "nblib.dynamics.plots",
    "SIGN_LABELS": "nblib.dynamics.plots",
    "per_epoch": "nblib.dynamics.plots",
    "plot_dynamics": "nblib.dynamics.plots",
    "plot_layer_zero_grads": "nblib.dynamics.plots",
    "plot_sign_heatmap": "nblib.dynamics.plots",
})
