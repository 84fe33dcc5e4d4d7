"""Incremental neural hashing: a growing layer of 100%-precision class detectors (slots).

``scores`` (cosine of representations, or their best augmented view, with slots), ``setcover``
(greedy set cover over sparse incidence lists), ``thresholds`` (100%-precision thresholds
per batch and as running averages), ``layer`` (:class:`IncrementalNeuralHashing`), ``training``
(the training loop, a linear-probe baseline), ``evaluate`` (accuracy after slot update, AUROC,
slot gradients on noise), ``plots``.
"""
from .evaluate import (SlotUpdate, accuracy_vs_new_slots, auroc, encode_in_chunks, forgetting_breakdown, match_metrics,
                       nearest_neighbour_predict, slot_input_gradients, slot_update, slots_needed)
from .layer import IncrementalNeuralHashing, SlotMatch
from .scores import as_views, max_norm_view, slot_scores
from .setcover import (SetCover, greedy_approximation_bound, greedy_set_cover, greedy_set_cover_lazy,
                       greedy_set_cover_python)
from .thresholds import (NO_NEGATIVES, BatchThresholds, precision_on_batch, precision_thresholds,
                         thresholds_in_force, update_running_thresholds)
from .training import fit_hashing, fit_linear_probe

__all__ = [
    "BatchThresholds",
    "IncrementalNeuralHashing",
    "NO_NEGATIVES",
    "SetCover",
    "SlotMatch",
    "SlotUpdate",
    "accuracy_vs_new_slots",
    "auroc",
    "encode_in_chunks",
    "fit_hashing",
    "fit_linear_probe",
    "forgetting_breakdown",
    "match_metrics",
    "nearest_neighbour_predict",
    "slot_input_gradients",
    "slot_update",
    "slots_needed",
    "as_views",
    "greedy_approximation_bound",
    "greedy_set_cover",
    "greedy_set_cover_lazy",
    "greedy_set_cover_python",
    "max_norm_view",
    "precision_on_batch",
    "precision_thresholds",
    "slot_scores",
    "thresholds_in_force",
    "update_running_thresholds",
]
