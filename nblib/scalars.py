"""One scalar logger for the whole package: TensorBoard when a folder is given, always in memory.

Used by ``Trainer``'s ``MetricsLogger``, the CSVAE's latent logger and the ``GradientTracker``
(each used to open its own ``SummaryWriter``). The writer is created on the first write, so a
logger that never logs leaves no event file, and ``torch.utils.tensorboard`` is imported only
when a folder is given.

    with ScalarLogger("runs/mlp") as log:
        log.scalars({"loss/train": 0.3, "accuracy/valid": 0.9}, step=1)
    log.history["loss/train"]        # [(1, 0.3)]
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import torch


class ScalarLogger:
    """Scalars (and histograms) by tag and step.

    Args:
        log_dir: TensorBoard folder, or None to keep the values in memory only.
        keep: also keep every scalar in ``history`` (tag -> list of (step, value)).
    """

    def __init__(self, log_dir: str | Path | None = None, keep: bool = True):
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.keep = keep
        self.history: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._writer = None

    @property
    def writer(self):
        """The SummaryWriter (created on first use), or None without a folder."""
        if self._writer is None and self.log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.log_dir))
        return self._writer

    def scalar(self, tag: str, value, step: int) -> None:
        """One value (a number or a one-element tensor); NaN is skipped."""
        value = float(value)
        if value != value:
            return
        if self.keep:
            self.history[tag].append((int(step), value))
        if self.log_dir is not None:
            self.writer.add_scalar(tag, value, step)

    def scalars(self, values: Mapping[str, object], step: int, prefix: str = "") -> None:
        """Every numeric entry of ``values`` as ``prefix + key`` (non-numbers are skipped)."""
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, torch.Tensor)):
                continue
            self.scalar(prefix + key, value, step)

    def histogram(self, tag: str, values: torch.Tensor, step: int) -> None:
        """A histogram (TensorBoard only)."""
        if self.log_dir is not None:
            self.writer.add_histogram(tag, values.detach().float().cpu(), step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "ScalarLogger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
