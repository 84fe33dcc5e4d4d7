"""Moved (issue #14, one axis of packages) to nblib.dynamics (optimiser dynamics);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "GradientTracker": "nblib.dynamics.tracker",
    "READINGS": "nblib.dynamics",
    "SCALARS": "nblib.dynamics",
    "TrackerCallback": "nblib.dynamics.callback",
    "flat_grad": "nblib.dynamics.curvature",
    "hutchinson_diagonal": "nblib.dynamics.curvature",
    "per_epoch": "nblib.dynamics.plots",
    "plot_dynamics": "nblib.dynamics.plots",
    "plot_layer_zero_grads": "nblib.dynamics.plots",
    "plot_sign_heatmap": "nblib.dynamics.plots",
    "step_crossings": "nblib.dynamics.curvature",
})
