"""Use a GradientTracker inside a :class:`nblib.engine.Trainer`."""
from __future__ import annotations

from ..engine.trainer import TrainerCallback
from .tracker import GradientTracker


class TrackerCallback(TrainerCallback):
    """Attach ``tracker`` for the whole fit, add a sign-record row at the end of every epoch
    (the last batch's gradients), and detach (flushing the buffers) when training ends."""

    def __init__(self, tracker: GradientTracker):
        self.tracker = tracker

    def on_fit_start(self, trainer):
        if not self.tracker.attached:
            self.tracker.attach()

    def on_epoch_end(self, trainer):
        self.tracker.record_signs()

    def on_fit_end(self, trainer):
        self.tracker.detach()
