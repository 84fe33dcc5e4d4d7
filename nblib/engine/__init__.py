"""The training engine: one loop (:class:`Learner`) with callbacks, and one scalar logger.

Every training recipe in nblib is built on it (``nblib.train.Trainer``, ``nblib.train_fast.fit_fast``,
``nblib.models.airbench.train_airbench94``, ``nblib.vae.train_csvae``, ``nblib.hashing.fit_hashing``
and ``fit_linear_probe``, ``nblib.doctor.training.train_copy``).
"""
from .callbacks import (Autocast, EpochEval, GradClip, GumbelAnneal, LossMeter, Progress, Scheduler, StepLosses,
                        Timer, autocast_context, batch_size)
from .learner import EVENTS, Callback, CancelBatch, CancelEpoch, CancelFit, Learner, default_forward
from .scalars import ScalarLogger

__all__ = [
    "EVENTS",
    "Autocast",
    "Callback",
    "CancelBatch",
    "CancelEpoch",
    "CancelFit",
    "EpochEval",
    "GradClip",
    "GumbelAnneal",
    "Learner",
    "LossMeter",
    "Progress",
    "ScalarLogger",
    "Scheduler",
    "StepLosses",
    "Timer",
    "autocast_context",
    "batch_size",
    "default_forward",
]
