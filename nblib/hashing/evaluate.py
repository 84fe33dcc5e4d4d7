"""Moved to nblib.continual.evaluate (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "SlotUpdate": "nblib.continual.evaluate",
    "accuracy_vs_new_slots": "nblib.continual.evaluate",
    "auroc": "nblib.continual.evaluate",
    "encode_in_chunks": "nblib.continual.evaluate",
    "forgetting_breakdown": "nblib.continual.evaluate",
    "match_metrics": "nblib.continual.evaluate",
    "nearest_neighbour_predict": "nblib.continual.evaluate",
    "slot_input_gradients": "nblib.continual.evaluate",
    "slot_update": "nblib.continual.evaluate",
    "slots_needed": "nblib.continual.evaluate",
})
