"""CSVAE: a hierarchical VAE whose latent layers are linked by a sparse DAG.

Layers are indexed top (0, the roots) to bottom (L-1, the one the decoder reads)::

    x --enc[L-1]--> h[L-1] --enc[L-2]--> ... --enc[0]-->        bottom-up: q_hat(z_l | x) = N(mu_hat_l, var_hat_l)
    z_0 ~ q(z_0|x) = q_hat_0            prior N(0, I)             top-down, layer by layer:
    z_l ~ q(z_l | z_{l-1}, x)           prior p(z_l | z_{l-1}) = DAGInteractionLayer_l(z_{l-1})
    x_hat = decoder(z_{L-1})

``posterior="precision"`` merges the bottom-up Gaussian with the top-down prior by precision
weighting (the Ladder VAE's top-down inference, Sonderby et al. 2016); ``"bottom_up"`` uses the
bottom-up Gaussian alone. The loss is ``recon + beta(epoch) * sum_l KL(q_l || p_l)`` with the KL in
closed form per unit. ``detach_top_down=True`` feeds ``z_{l-1}.detach()`` to the DAG layer, as the
research notes' ``_top_down_pass()`` did: no gradient then reaches a parent layer through its
children, so the layers above the bottom learn from their own KL term only.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.dag import DAGInteractionLayer, banded_adjacency
from .vae_encoders import FCDecoder, SimpleFCNNEncoder, gaussian_kl

POSTERIORS = ("precision", "bottom_up")


@dataclass
class LatentLayer:
    """One latent layer of a forward pass; all tensors (B, D_l)."""

    mu: torch.Tensor  # posterior mean
    logvar: torch.Tensor  # posterior log-variance
    prior_mu: torch.Tensor
    prior_logvar: torch.Tensor
    z: torch.Tensor  # the sample (or the mean, with sample=False) passed down
    bottom_up_mu: torch.Tensor
    bottom_up_logvar: torch.Tensor

    def kl(self) -> torch.Tensor:
        """(B, D_l) KL(q || p) per unit, closed form."""
        return gaussian_kl(self.mu, self.logvar, self.prior_mu, self.prior_logvar)


@dataclass
class CSVAEOutput:
    logits: torch.Tensor  # (B, input_dim) Bernoulli logits of the reconstruction
    layers: list[LatentLayer]  # top (roots) first


class CSVAE(nn.Module):
    """DAG-structured hierarchical VAE on flattened images.

    Args:
        input_dim: pixels per image (inputs are (B, input_dim) in [0, 1]).
        latent_dims: units per latent layer, top (roots) first, e.g. ``(4, 5)``.
        adjacency: one (D_{l+1}, D_l) bool mask per pair of consecutive layers (child x parent);
            default :func:`banded_adjacency` with ``parents_per_child`` parents per child.
        hidden_dim, encoder_depth, activation, head: of every :class:`SimpleFCNNEncoder`.
        interm_unit_dim, n_interm_layers, dag_activation: of every :class:`DAGInteractionLayer`.
        decoder_hidden: hidden widths of the decoder (reads the bottom layer only).
        detach_top_down: feed detached parent samples to the DAG layers (the notes' variant).
        posterior: ``"precision"`` (merge bottom-up and top-down) or ``"bottom_up"``.
    """

    def __init__(self, input_dim: int, latent_dims: tuple[int, ...] = (4, 5), adjacency=None,
                 parents_per_child: int = 2, hidden_dim: int = 256, encoder_depth: int = 1,
                 activation: str = "relu", head: str = "logvar", interm_unit_dim: int = 16,
                 n_interm_layers: int = 0, dag_activation: str = "relu",
                 decoder_hidden: tuple[int, ...] = (256, 256), detach_top_down: bool = False,
                 posterior: str = "precision"):
        super().__init__()
        if posterior not in POSTERIORS:
            raise ValueError(f"unknown posterior {posterior!r}; choose one of {POSTERIORS}")
        if len(latent_dims) < 1:
            raise ValueError("latent_dims needs at least one layer")
        n_layers = len(latent_dims)
        if adjacency is None:
            adjacency = [banded_adjacency(latent_dims[l + 1], latent_dims[l], min(parents_per_child, latent_dims[l]))
                         for l in range(n_layers - 1)]
        if len(adjacency) != n_layers - 1:
            raise ValueError(f"{n_layers} layers need {n_layers - 1} adjacency masks, got {len(adjacency)}")
        for l, adj in enumerate(adjacency):
            if tuple(adj.shape) != (latent_dims[l + 1], latent_dims[l]):
                raise ValueError(f"adjacency[{l}] must be (children={latent_dims[l + 1]}, parents={latent_dims[l]}), "
                                 f"got {tuple(adj.shape)}")
        self.latent_dims, self.detach_top_down, self.posterior = tuple(latent_dims), detach_top_down, posterior
        encoders = [None] * n_layers
        in_dim = input_dim
        for l in reversed(range(n_layers)):  # bottom-up: the bottom encoder reads pixels
            encoders[l] = SimpleFCNNEncoder(in_dim, latent_dims[l], hidden_dim, encoder_depth, activation, head)
            in_dim = hidden_dim
        self.encoders = nn.ModuleList(encoders)
        self.dag = nn.ModuleList(
            [DAGInteractionLayer(adj, interm_unit_dim, n_interm_layers, dag_activation) for adj in adjacency]
        )
        self.decoder = FCDecoder(latent_dims[-1], input_dim, tuple(decoder_hidden))

    def bottom_up(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(B, input_dim) -> per layer (top first) the bottom-up ``(mu_hat, logvar_hat)``, each (B, D_l)."""
        out = [None] * len(self.latent_dims)
        h = x
        for l in reversed(range(len(self.latent_dims))):
            mu, logvar, h = self.encoders[l](h)
            out[l] = (mu, logvar)
        return out

    def forward(self, x: torch.Tensor, sample: bool = True) -> CSVAEOutput:
        """Bottom-up, then top-down; ``sample=False`` passes posterior means down instead of samples."""
        if x.dim() != 2:
            raise ValueError(f"CSVAE takes flattened images (B, input_dim); got {tuple(x.shape)}: use x.flatten(1)")
        layers: list[LatentLayer] = []
        for l, (mu_hat, lv_hat) in enumerate(self.bottom_up(x)):
            if l == 0:
                mu_p, lv_p = torch.zeros_like(mu_hat), torch.zeros_like(lv_hat)  # N(0, I) at the top
            else:
                parent = layers[-1].z.detach() if self.detach_top_down else layers[-1].z
                mu_p, lv_p = self.dag[l - 1](parent)
            if l == 0 or self.posterior == "bottom_up":
                mu, lv = mu_hat, lv_hat
            else:  # precision-weighted merge of N(mu_hat, var_hat) and N(mu_p, var_p)
                mu = mu_hat * torch.sigmoid(lv_p - lv_hat) + mu_p * torch.sigmoid(lv_hat - lv_p)
                lv = -torch.logaddexp(-lv_hat, -lv_p)
            z = mu + torch.randn_like(mu) * (0.5 * lv).exp() if sample else mu
            layers.append(LatentLayer(mu, lv, mu_p, lv_p, z, mu_hat, lv_hat))
        return CSVAEOutput(self.decoder(layers[-1].z), layers)

    @torch.no_grad()
    def generate(self, n: int, device=None) -> torch.Tensor:
        """Ancestral samples: z_0 ~ N(0, I), z_l ~ p(z_l | z_{l-1}); returns (n, input_dim) pixel probabilities."""
        device = device or next(self.parameters()).device
        z = torch.randn(n, self.latent_dims[0], device=device)
        for dag in self.dag:
            mu_p, lv_p = dag(z)
            z = mu_p + torch.randn_like(mu_p) * (0.5 * lv_p).exp()
        return torch.sigmoid(self.decoder(z))


RECON_REDUCTIONS = ("sum", "mean")


def csvae_loss(out: CSVAEOutput, x: torch.Tensor, kl_weight: float = 1.0,
               recon_reduction: str = "sum") -> dict[str, torch.Tensor]:
    """Negative ELBO pieces, averaged over the batch.

    Args:
        out: the model's output for ``x``.
        x: (B, input_dim) targets in [0, 1].
        kl_weight: beta, the weight of the KL terms (see :class:`KLSchedule`).
        recon_reduction: ``"sum"`` over pixels (the ELBO) or ``"mean"`` over pixels, a common slip
            (``F.binary_cross_entropy``'s default) that weights the KL ``input_dim`` times more.
    Returns:
        ``loss`` (scalar to minimise), ``recon`` (Bernoulli NLL summed over pixels, nats per image,
        whatever the reduction), ``kl`` (L,) per layer, ``kl_per_unit`` list of (D_l,) per layer;
        all device tensors.
    """
    if recon_reduction not in RECON_REDUCTIONS:
        raise ValueError(f"unknown recon_reduction {recon_reduction!r}; choose one of {RECON_REDUCTIONS}")
    recon = F.binary_cross_entropy_with_logits(out.logits, x, reduction="none").sum(1).mean()
    kl_per_unit = [layer.kl().mean(0) for layer in out.layers]  # (D_l,) each
    kl = torch.stack([k.sum() for k in kl_per_unit])  # (L,)
    fit = recon if recon_reduction == "sum" else recon / x.shape[1]
    return {"loss": fit + kl_weight * kl.sum(), "recon": recon, "kl": kl, "kl_per_unit": kl_per_unit}


@dataclass(frozen=True)
class KLSchedule:
    """Weight of the KL terms as a function of (fractional) epoch.

    kind:
        ``"constant"``: ``beta`` throughout.
        ``"switch"``: 0 before ``start_epoch``, then ``beta`` (the notes' "KLD after K=10 epochs").
        ``"linear"``: 0 before ``start_epoch``, rising linearly to ``beta`` over ``warmup_epochs``.
    """

    kind: str = "constant"
    beta: float = 1.0
    start_epoch: float = 0.0
    warmup_epochs: float = 1.0

    def __post_init__(self):
        if self.kind not in ("constant", "switch", "linear"):
            raise ValueError(f"unknown KL schedule {self.kind!r}; choose constant, switch or linear")
        if self.kind == "linear" and self.warmup_epochs <= 0:
            raise ValueError("warmup_epochs must be > 0 for a linear schedule")

    def __call__(self, epoch: float) -> float:
        if self.kind == "constant":
            return self.beta
        if self.kind == "switch":
            return self.beta if epoch >= self.start_epoch else 0.0
        return self.beta * min(max((epoch - self.start_epoch) / self.warmup_epochs, 0.0), 1.0)
