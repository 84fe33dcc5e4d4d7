"""Moved to nblib.engine.trainer (issue #14, one axis of packages);
this path works for one release."""
from nblib.deprecation import moved

__getattr__ = moved(__name__, None, {
    "Callback": "nblib.engine.trainer:TrainerCallback",
    "CheckpointCallback": "nblib.engine.trainer",
    "EpochStartAnalysis": "nblib.engine.trainer",
    "MetricsLogger": "nblib.engine.trainer",
    "Trainer": "nblib.engine.trainer",
    "macro_f1": "nblib.engine.trainer",
})
