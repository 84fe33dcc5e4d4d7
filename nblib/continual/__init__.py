"""Measurements of continual and incremental learning (notebook 06).

``evaluate`` (a hashing layer's accuracy after a slot update, slots needed, AUROC, slot gradients
on noise, a forgetting breakdown), ``baselines`` (nearest class mean, experience replay, the
forgetting metric), ``ood`` (max-softmax, kNN-distance and Mahalanobis OOD scores) and ``plots``
(imported on first use: the rest loads without matplotlib). The layer itself is in
:mod:`nblib.layers.hashing`, its training loop in :mod:`nblib.engine.hashing`.
"""
from .baselines import ReplayBuffer, class_means, forgetting, nearest_class_mean_predict
from .evaluate import (SlotUpdate, accuracy_vs_new_slots, auroc, encode_in_chunks, forgetting_breakdown, match_metrics,
                       nearest_neighbour_predict, slot_input_gradients, slot_update, slots_needed)
from .ood import GaussianClasses, fit_mahalanobis, knn_distance_score, mahalanobis_score, max_softmax_score

__all__ = [
    "GaussianClasses",
    "ReplayBuffer",
    "SlotUpdate",
    "accuracy_vs_new_slots",
    "auroc",
    "class_means",
    "encode_in_chunks",
    "fit_mahalanobis",
    "forgetting",
    "forgetting_breakdown",
    "knn_distance_score",
    "mahalanobis_score",
    "match_metrics",
    "max_softmax_score",
    "nearest_class_mean_predict",
    "nearest_neighbour_predict",
    "slot_input_gradients",
    "slot_update",
    "slots_needed",
]
