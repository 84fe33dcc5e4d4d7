"""Interpretable gradients: input gradients of class logits, unit gradients on Gaussian noise,
their stability and class specificity, and plots / widgets of filters and gradients.

    grads = input_gradients(model, x)                     # (N, K, 3, H, W)
    spec = class_specificity(grads)                       # (N,)  1 - cos between classes
    noise = noise_gradients(backbone(model), n_samples=16)  # (S, D, 3, H, W)
    stab = gradient_stability(noise)                      # (D,)  mean pairwise cosine
    plot_unit_gradients(noise.mean(0))
    steps = cascading_randomization(model, untrained_model)   # Adebayo et al. 2018, top layer first
    scores = gradient_scores(model, backbone(model), x)     # the four numbers above, per unit / image
    on_front = pareto_front(points)                         # (N,) models no other model dominates
"""
from .gradients import (
    cifar_denormalize,
    cifar_normalize,
    input_gradients,
    noise_gradients,
    to_rgb,
    unit_gradients,
)
from .metrics import class_specificity, gradient_stability, unit_diversity, unit_usage
from .plots import (
    plot_accuracy_table,
    plot_filter_grid,
    plot_gradient_grid,
    plot_interpretability_scores,
    plot_unit_gradients,
)
from .pareto import dominates, pareto_front
from .randomization import RandomizedModel, cascading_randomization, parameterised_layers, randomize_layers
from .scores import SCORE_NAMES, gradient_scores, mean_scores
from .templates import tiled_templates
from .widgets import class_browser, show_class, show_unit, unit_browser

__all__ = [
    "SCORE_NAMES",
    "RandomizedModel",
    "cascading_randomization",
    "gradient_scores",
    "mean_scores",
    "parameterised_layers",
    "randomize_layers",
    "cifar_denormalize",
    "cifar_normalize",
    "dominates",
    "class_browser",
    "class_specificity",
    "gradient_stability",
    "input_gradients",
    "noise_gradients",
    "pareto_front",
    "plot_accuracy_table",
    "plot_filter_grid",
    "plot_gradient_grid",
    "plot_interpretability_scores",
    "plot_unit_gradients",
    "show_class",
    "show_unit",
    "tiled_templates",
    "to_rgb",
    "unit_browser",
    "unit_diversity",
    "unit_gradients",
    "unit_usage",
]
