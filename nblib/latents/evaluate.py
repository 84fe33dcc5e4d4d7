"""A VAE's latent codes over a dataset: posterior means and variances, KL per unit, the ELBO terms,
reconstructions (for any :class:`~nblib.models.csvae.CSVAE`; the diagnostics themselves are in
:mod:`.diagnostics`)."""
from __future__ import annotations

import torch

from ..models.csvae import CSVAE, csvae_loss
from .diagnostics import LayerCodes, active_units


@torch.no_grad()
def encode_dataset(model: CSVAE, x: torch.Tensor, batch_size: int = 1024) -> list[LayerCodes]:
    """Posterior means, log-variances and KL per unit of every layer (top first) over ``x`` (N, input_dim)."""
    was_training = model.training
    model.eval()
    outs = [model(chunk, sample=False) for chunk in x.split(batch_size)]
    model.train(was_training)
    codes = []
    for l in range(len(model.latent_dims)):
        mu = torch.cat([o.layers[l].mu for o in outs])  # (N, D)
        logvar = torch.cat([o.layers[l].logvar for o in outs])
        kl = torch.cat([o.layers[l].kl() for o in outs]).mean(0)  # (D,)
        codes.append(LayerCodes(mu, logvar, kl))
    return codes


@torch.no_grad()
def reconstruct(model: CSVAE, x: torch.Tensor) -> torch.Tensor:
    """Pixel probabilities of the reconstruction from posterior means: (N, input_dim)."""
    was_training = model.training
    model.eval()
    probs = torch.sigmoid(model(x, sample=False).logits)
    model.train(was_training)
    return probs


def evaluate(model: CSVAE, x: torch.Tensor, batch_size: int = 1024,
             threshold: float = 0.01) -> tuple[dict, list[LayerCodes]]:
    """Over ``x`` (N, input_dim): the ELBO terms with sampling, as in training (``recon``, ``kl_total``,
    ``elbo_loss`` at beta = 1, ``kl_{l}`` and ``active_{l}`` per layer), and the deterministic codes."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        parts = [csvae_loss(model(chunk), chunk) for chunk in x.split(batch_size)]
    model.train(was_training)
    w = torch.tensor([chunk.shape[0] for chunk in x.split(batch_size)], dtype=torch.float32) / x.shape[0]
    recon = sum(wi * p["recon"].item() for wi, p in zip(w, parts))
    kl = sum(wi * p["kl"].cpu() for wi, p in zip(w, parts))
    codes = encode_dataset(model, x, batch_size)
    metrics = {"recon": float(recon), "kl_total": float(kl.sum()), "elbo_loss": float(recon + kl.sum())}
    for l, c in enumerate(codes):
        metrics[f"kl_{l}"] = float(kl[l])
        metrics[f"active_{l}"] = int(active_units(c.mu, threshold)[0].sum())
    return metrics, codes
