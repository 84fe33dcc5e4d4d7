"""Incremental neural hashing: a growing layer of 100%-precision class detectors (slots).

``scores`` (cosine of representations, or their best augmented view, with slots), ``setcover``
(greedy set cover over sparse incidence lists), ``thresholds`` (100%-precision thresholds
per batch and as running averages), ``layer`` (:class:`IncrementalNeuralHashing`), ``training``
(the training loop, a linear-probe baseline), ``evaluate`` (accuracy after slot update, AUROC,
slot gradients on noise), ``selection`` (set cover against most-matches-first and random
choice of new slots), ``continual`` (nearest class mean, experience replay, the forgetting
metric), ``ood`` (max-softmax, kNN-distance and Mahalanobis OOD scores), ``plots``.
"""
from .continual import ReplayBuffer, class_means, forgetting, nearest_class_mean_predict
from .evaluate import (SlotUpdate, accuracy_vs_new_slots, auroc, encode_in_chunks, forgetting_breakdown, match_metrics,
                       nearest_neighbour_predict, slot_input_gradients, slot_update, slots_needed)
from .layer import IncrementalNeuralHashing, SlotMatch
from .ood import GaussianClasses, fit_mahalanobis, knn_distance_score, mahalanobis_score, max_softmax_score
from .scores import as_views, max_norm_view, slot_scores
from .selection import STRATEGIES, cover_of, select_slots, slot_selector
from .setcover import (SetCover, greedy_approximation_bound, greedy_set_cover, greedy_set_cover_lazy,
                       greedy_set_cover_python)
from .thresholds import (NO_NEGATIVES, BatchThresholds, precision_on_batch, precision_thresholds,
                         thresholds_in_force, update_running_thresholds)
from .training import fit_hashing, fit_linear_probe

__all__ = [
    "BatchThresholds",
    "GaussianClasses",
    "IncrementalNeuralHashing",
    "NO_NEGATIVES",
    "ReplayBuffer",
    "STRATEGIES",
    "SetCover",
    "SlotMatch",
    "SlotUpdate",
    "accuracy_vs_new_slots",
    "as_views",
    "auroc",
    "class_means",
    "cover_of",
    "encode_in_chunks",
    "fit_hashing",
    "fit_linear_probe",
    "fit_mahalanobis",
    "forgetting",
    "forgetting_breakdown",
    "greedy_approximation_bound",
    "greedy_set_cover",
    "greedy_set_cover_lazy",
    "greedy_set_cover_python",
    "knn_distance_score",
    "mahalanobis_score",
    "match_metrics",
    "max_norm_view",
    "max_softmax_score",
    "nearest_class_mean_predict",
    "nearest_neighbour_predict",
    "precision_on_batch",
    "precision_thresholds",
    "select_slots",
    "slot_input_gradients",
    "slot_scores",
    "slot_selector",
    "slot_update",
    "slots_needed",
    "thresholds_in_force",
    "update_running_thresholds",
]
