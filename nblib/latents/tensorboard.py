"""TensorBoard logging of a VAE's latents: scalars and histograms for every layer, the last one included.

The research notes found the final latent layer missing from their TensorBoard histograms and
scalars; here every layer handed over is written, and a test reads the event file back to check.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from ..scalars import ScalarLogger
from .diagnostics import LayerCodes, active_units


class LatentTensorBoardLogger:
    """Write per-epoch VAE diagnostics to ``log_dir``.

    Tags: ``loss/<metric>`` for each scalar metric; per layer ``layer<l>/kl_unit<j>``,
    ``layer<l>/kl``, ``layer<l>/active_units``, ``layer<l>/batch_mean_mu_unit<j>`` (the mean the notes
    plotted) and histograms ``layer<l>/mu``, ``layer<l>/sigma``, ``layer<l>/mu_unit<j>``.
    """

    def __init__(self, log_dir: str | Path, threshold: float = 0.01):
        self.log_dir, self.threshold = Path(log_dir), threshold
        self.writer = ScalarLogger(self.log_dir, keep=False)  # the package's one scalar logger

    def log_epoch(self, epoch: int, metrics: Mapping[str, float], layers: Sequence[LayerCodes] | Mapping[str, LayerCodes],
                  step_losses: torch.Tensor | None = None) -> None:
        """Log one epoch.

        Args:
            epoch: the x-axis value.
            metrics: scalar metrics (non-numbers are skipped).
            layers: every latent layer's codes, as a list (named ``layer0``, ...) or a name -> codes map.
            step_losses: optional (T,) per-step losses of the epoch, logged as a histogram.
        """
        w = self.writer
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "epoch":
                w.scalar(f"loss/{key}", value, epoch)
        named = layers.items() if isinstance(layers, Mapping) else ((f"layer{l}", c) for l, c in enumerate(layers))
        for name, codes in named:
            mu, sigma = codes.mu.detach().float().cpu(), (0.5 * codes.logvar.detach().float()).exp().cpu()
            kl = codes.kl.detach().float().cpu()
            w.scalar(f"{name}/kl", kl.sum().item(), epoch)
            w.scalar(f"{name}/active_units", int(active_units(mu, self.threshold)[0].sum()), epoch)
            w.histogram(f"{name}/mu", mu, epoch)
            w.histogram(f"{name}/sigma", sigma, epoch)
            batch_mean = mu.mean(0)  # (D,)
            for j in range(mu.shape[1]):
                w.scalar(f"{name}/kl_unit{j}", kl[j].item(), epoch)
                w.scalar(f"{name}/batch_mean_mu_unit{j}", batch_mean[j].item(), epoch)
                w.histogram(f"{name}/mu_unit{j}", mu[:, j], epoch)
        if step_losses is not None:
            w.histogram("loss/step_losses", step_losses.detach().float().cpu(), epoch)
        w.flush()

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> "LatentTensorBoardLogger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
