"""Moved to nblib.continual.plots (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "plot_accuracy_matrices": "nblib.continual.plots",
    "plot_class_grid": "nblib.continual.plots",
    "plot_ood_scores": "nblib.continual.plots",
    "plot_slots_per_class": "nblib.continual.plots",
    "plot_update_curves": "nblib.continual.plots",
})
