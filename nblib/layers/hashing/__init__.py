"""Incremental neural hashing: a growing layer of 100%-precision class detectors (slots).

The layer (:class:`IncrementalNeuralHashing`) and the algorithms it runs on: ``scores`` (cosine
of representations, or their best augmented view, with slots), ``setcover`` (greedy set cover
over sparse incidence lists), ``thresholds`` (100%-precision thresholds per batch and as running
averages), ``selection`` (set cover against most-matches-first and random choice of new slots).
Its training loop is :func:`nblib.engine.hashing.fit_hashing`; the measurements of what it learns
(accuracy after a slot update, forgetting, OOD scores) are in :mod:`nblib.continual`.
"""
from .layer import IncrementalNeuralHashing, SlotMatch
from .scores import as_views, max_norm_view, slot_scores
from .selection import STRATEGIES, cover_of, select_slots, slot_selector
from .setcover import SetCover, greedy_approximation_bound, greedy_set_cover, greedy_set_cover_lazy, greedy_set_cover_python
from .thresholds import (NO_NEGATIVES, BatchThresholds, precision_on_batch, precision_thresholds, thresholds_in_force,
                         update_running_thresholds)

__all__ = [
    "BatchThresholds",
    "IncrementalNeuralHashing",
    "NO_NEGATIVES",
    "STRATEGIES",
    "SetCover",
    "SlotMatch",
    "as_views",
    "cover_of",
    "greedy_approximation_bound",
    "greedy_set_cover",
    "greedy_set_cover_lazy",
    "greedy_set_cover_python",
    "max_norm_view",
    "precision_on_batch",
    "precision_thresholds",
    "select_slots",
    "slot_scores",
    "slot_selector",
    "thresholds_in_force",
    "update_running_thresholds",
]
