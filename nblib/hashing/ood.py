"""Moved to nblib.continual.ood (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "GaussianClasses": "nblib.continual.ood",
    "fit_mahalanobis": "nblib.continual.ood",
    "knn_distance_score": "nblib.continual.ood",
    "mahalanobis_score": "nblib.continual.ood",
    "max_softmax_score": "nblib.continual.ood",
})
