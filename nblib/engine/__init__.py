"""Training: one loop (:class:`Learner`) with callbacks, and every recipe built on it.

The loop and its shared callbacks: :mod:`.learner`, :mod:`.callbacks`, :mod:`.schedules` (warm-up and
decay, the plateau check), :mod:`.batches` (seeded random and shuffled batches from tensors, for the
notebooks' small loops); the scalar logger is :mod:`nblib.scalars`. The recipes, one module each: :mod:`.trainer` (``Trainer``: loaders, validation
metrics, checkpoints), :mod:`.cifar` (``fit_fast``: airbench-style small CIFAR-10 classifiers,
notebooks 05 and 07), :mod:`.airbench` (``train_airbench94``), :mod:`.csvae` (``train_csvae``,
notebook 02), :mod:`.hashing` (``fit_hashing``, ``fit_linear_probe``, notebook 06), :mod:`.slots`
(``train_slot_autoencoder``, notebook 01).
"""
from .callbacks import (Autocast, EpochEval, GradClip, GumbelAnneal, LossMeter, Progress, Scheduler, StepLosses,
                        Timer, autocast_context, batch_size)
from .batches import random_batches, shuffled_batches
from .learner import EVENTS, Callback, CancelBatch, CancelEpoch, CancelFit, Learner, default_forward
from ..scalars import ScalarLogger
from .trainer import CheckpointCallback, EpochStartAnalysis, MetricsLogger, Trainer, TrainerCallback, macro_f1
from .cifar import FitResult, accuracy, decay_groups, fit_fast, fit_seeds
from .airbench import AirbenchResult, LookaheadEMA, train_airbench94
from .csvae import VAEHistory, train_csvae
from .hashing import fit_hashing, fit_linear_probe
from .schedules import lr_at_step, tail_change, triangle_schedule
from .slots import train_slot_autoencoder

__all__ = [
    "EVENTS",
    "AirbenchResult",
    "Autocast",
    "Callback",
    "CancelBatch",
    "CancelEpoch",
    "CancelFit",
    "CheckpointCallback",
    "EpochEval",
    "EpochStartAnalysis",
    "FitResult",
    "GradClip",
    "GumbelAnneal",
    "Learner",
    "LookaheadEMA",
    "LossMeter",
    "MetricsLogger",
    "Progress",
    "ScalarLogger",
    "Scheduler",
    "StepLosses",
    "Timer",
    "Trainer",
    "TrainerCallback",
    "VAEHistory",
    "accuracy",
    "autocast_context",
    "batch_size",
    "decay_groups",
    "default_forward",
    "fit_fast",
    "fit_hashing",
    "fit_linear_probe",
    "fit_seeds",
    "lr_at_step",
    "macro_f1",
    "random_batches",
    "shuffled_batches",
    "train_airbench94",
    "train_csvae",
    "tail_change",
    "train_slot_autoencoder",
    "triangle_schedule",
]
