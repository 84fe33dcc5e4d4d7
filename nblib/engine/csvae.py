"""Train a CSVAE on device-resident images and record the latent diagnostics every epoch.

Per step (kept in device tensors, read once at the end): total loss, reconstruction, KL per layer,
gradient norm, the batch mean of every unit's mu (what the research notes plotted), and the
batch's mean sprite area (how much of a loss wiggle is just the batch's content).
Per epoch, on a fixed evaluation set: loss terms, KL per unit, active units, mu histograms;
optionally logged to TensorBoard for every latent layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..latents.diagnostics import histogram_edges, mu_histograms
from ..latents.evaluate import evaluate
from ..latents.tensorboard import LatentTensorBoardLogger
from ..models.csvae import CSVAE, KLSchedule, csvae_loss
from .callbacks import Progress, Scheduler
from .learner import Callback, Learner


@dataclass
class VAEHistory:
    """What :func:`train_csvae` recorded; per-step tensors are on the CPU, (T,) or (T, ...)."""

    steps_per_epoch: int
    step_loss: torch.Tensor
    step_recon: torch.Tensor
    step_kl: torch.Tensor  # (T, L)
    step_grad_norm: torch.Tensor
    step_batch_mean_mu: list[torch.Tensor]  # per layer (T, D_l): mean of mu over the batch
    step_batch_mass: torch.Tensor  # (T,) mean pixel sum of the batch's images (sprite area)
    epochs: list[dict] = field(default_factory=list)  # evaluation after each epoch
    kl_per_unit: list[list[torch.Tensor]] = field(default_factory=list)  # [epoch][layer] (D_l,)
    mu_hist: list[list[torch.Tensor]] = field(default_factory=list)  # [epoch][layer] (D_l, bins)
    hist_edges: torch.Tensor | None = None

    def mu_hist_layer(self, layer: int) -> torch.Tensor:
        """(E, D_l, bins) histograms of one layer's posterior means, epoch by epoch."""
        return torch.stack([h[layer] for h in self.mu_hist])

    def kl_per_unit_layer(self, layer: int) -> torch.Tensor:
        """(E, D_l) KL per unit of one layer, epoch by epoch."""
        return torch.stack([k[layer] for k in self.kl_per_unit])


class _Recorder(Callback):
    """Per step: the loss terms, gradient norm, batch means of mu and sprite area, into the history's
    device tensors; per epoch: the evaluation, KL per unit, mu histograms and the TensorBoard log."""

    order = 10

    def __init__(self, hist: "VAEHistory", model: CSVAE, eval_images: torch.Tensor, kl_schedule: KLSchedule, log_dir,
                 hist_bins: int, hist_range: tuple[float, float]):
        self.hist, self.model, self.eval_images, self.kl_schedule = hist, model, eval_images, kl_schedule
        self.hist_bins, self.hist_range = hist_bins, hist_range
        self.logger = LatentTensorBoardLogger(log_dir) if log_dir is not None else None

    def after_backward(self, learner):
        self.hist.step_grad_norm[learner.step] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), float("inf"))

    def after_step(self, learner):
        h, t, parts, x = self.hist, learner.step, learner.parts, learner.batch
        h.step_loss[t], h.step_recon[t] = parts["loss"].detach(), parts["recon"].detach()
        h.step_kl[t], h.step_batch_mass[t] = parts["kl"].detach(), x.sum(1).mean()
        for l, layer in enumerate(learner.preds.layers):
            h.step_batch_mean_mu[l][t] = layer.mu.detach().mean(0)

    def after_epoch(self, learner):
        epoch, h = learner.epoch, self.hist
        metrics, codes = evaluate(self.model, self.eval_images)
        metrics.update(epoch=epoch + 1, kl_weight=self.kl_schedule(epoch + 1))
        h.epochs.append(metrics)
        h.kl_per_unit.append([c.kl.cpu() for c in codes])
        h.mu_hist.append([mu_histograms(c.mu, self.hist_bins, self.hist_range).cpu() for c in codes])
        if self.logger is not None:
            self.logger.log_epoch(epoch + 1, metrics, codes, h.step_loss[learner.step - h.steps_per_epoch:learner.step])

    def cleanup(self, learner):  # close the event file even when training fails
        if self.logger is not None:
            self.logger.close()


def train_csvae(model: CSVAE, images: torch.Tensor, eval_images: torch.Tensor, epochs: int, batch_size: int = 128,
                lr: float = 1e-3, kl_schedule: KLSchedule = KLSchedule(), cosine_lr: bool = False, seed: int = 0, log_dir=None,
                recon_reduction: str = "sum", hist_bins: int = 41, hist_range: tuple[float, float] = (-4.0, 4.0),
                progress: bool = True, desc: str = "train") -> VAEHistory:
    """Adam on the negative ELBO with a KL schedule; diagnostics after every epoch.

    Args:
        model: a :class:`CSVAE` already on the images' device.
        images, eval_images: (N, input_dim) and (M, input_dim) floats in [0, 1], on the device.
        epochs, batch_size, lr: the budget (the last partial batch of an epoch is dropped).
        kl_schedule: the KL weight per fractional epoch.
        cosine_lr: decay the learning rate from ``lr`` to 0 along a cosine over the run.
        recon_reduction: ``"sum"`` (the ELBO) or ``"mean"`` over pixels, see :func:`csvae_loss`.
        log_dir: TensorBoard folder (scalars and histograms for every layer), or None.
    Returns:
        a :class:`VAEHistory`.
    """
    if images.dim() != 2 or eval_images.dim() != 2:
        raise ValueError("images must be flattened (N, input_dim); use images.flatten(1)")
    dev = images.device
    steps_per_epoch = images.shape[0] // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} is larger than the {images.shape[0]} training images")
    total, n_layers = steps_per_epoch * epochs, len(model.latent_dims)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total) if cosine_lr else None
    gen = torch.Generator(device=dev).manual_seed(seed)
    step_loss, step_recon, step_grad, step_mass = (torch.zeros(total, device=dev) for _ in range(4))
    step_kl = torch.zeros(total, n_layers, device=dev)
    step_mu = [torch.zeros(total, d, device=dev) for d in model.latent_dims]
    hist = VAEHistory(steps_per_epoch, step_loss, step_recon, step_kl, step_grad, step_mu, step_mass,
                      hist_edges=histogram_edges(hist_bins, hist_range))

    def epoch_batches(learner: Learner):
        perm = torch.randperm(images.shape[0], device=dev, generator=gen)
        return (images[perm[i * batch_size:(i + 1) * batch_size]] for i in range(steps_per_epoch))

    def forward(learner: Learner, x: torch.Tensor):
        out = model(x)
        learner.parts = csvae_loss(out, x, kl_schedule(learner.epoch + learner.iter / steps_per_epoch), recon_reduction)
        return out, learner.parts["loss"]

    callbacks = [_Recorder(hist, model, eval_images, kl_schedule, log_dir, hist_bins, hist_range),
                 Progress(desc, enabled=progress, leave=True)]
    if sched is not None:
        callbacks.append(Scheduler(sched))
    Learner(model, opt, epoch_batches, forward=forward, callbacks=callbacks).fit(epochs)
    hist.step_loss, hist.step_recon, hist.step_kl = step_loss.cpu(), step_recon.cpu(), step_kl.cpu()
    hist.step_grad_norm, hist.step_batch_mean_mu = step_grad.cpu(), [m.cpu() for m in step_mu]
    hist.step_batch_mass = step_mass.cpu()
    return hist
