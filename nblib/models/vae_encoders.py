"""Bottom-up encoders and decoders of the CSVAE: small fully connected networks with a Gaussian head.

The Gaussian head turns a linear layer's ``2 * D`` outputs into ``(mu, log-variance)``. How its
second half is read is the ``head`` choice, because the research notes suspected it:

- ``"sigma"``: the second half *is* the standard deviation, as in the notes' encoder. A linear
  output can be negative, so this is not a valid scale; it is read here as ``var = sigma**2``
  (``logvar = log(sigma**2 + sigma_eps)``), which is the same distribution for either sign, and
  keeps the two failure modes that remain: a KL term ``-log sigma**2`` that diverges as the
  output crosses 0, and gradients ``2 / sigma`` that explode there.
- ``"logvar"``: the second half is the log-variance (unconstrained, the standard choice).
- ``"softplus"``: ``sigma = softplus(raw) + min_sigma`` (positive by construction).

The activation *before* the head (``"tanh"`` in the notes, ``"relu"`` in their fix) does not
change the head's range: a linear layer after either can output any real number.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.activations import make_activation

HEADS = ("sigma", "logvar", "softplus")


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor | None = None,
                logvar_p: torch.Tensor | None = None) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per unit, in nats.

    Args:
        mu_q, logvar_q: (..., D) the posterior.
        mu_p, logvar_p: (..., D) the prior (broadcastable); None means N(0, 1).
    Returns:
        (..., D): ``0.5 * (logvar_p - logvar_q + (var_q + (mu_q - mu_p)^2) / var_p - 1)``.
    """
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).square()) * (-logvar_p).exp() - 1)


def mlp(in_dim: int, hidden_dim: int, depth: int, activation: str) -> nn.Sequential:
    """``depth`` hidden layers ``Linear -> activation`` of width ``hidden_dim`` (depth 0: identity)."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else hidden_dim, hidden_dim), make_activation(activation)]
    return nn.Sequential(*layers)


class GaussianHead(nn.Module):
    """Linear layer to ``(mu, logvar)`` of a diagonal Gaussian over ``latent_dim`` units.

    Args:
        in_dim: input features.
        latent_dim: D, the number of latent units.
        head: ``"sigma"`` (the notes' reading), ``"logvar"`` or ``"softplus"``; see the module doc.
        sigma_eps: floor inside ``log(sigma**2 + sigma_eps)`` for ``head="sigma"``.
        min_sigma: added to the softplus scale for ``head="softplus"``.
    Shapes: (B, in_dim) -> mu (B, D), logvar (B, D).
    """

    def __init__(self, in_dim: int, latent_dim: int, head: str = "logvar", sigma_eps: float = 1e-8,
                 min_sigma: float = 1e-3):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; choose one of {HEADS}")
        self.head, self.sigma_eps, self.min_sigma = head, sigma_eps, min_sigma
        self.linear = nn.Linear(in_dim, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.linear(h).chunk(2, dim=-1)  # (B, D) each
        if self.head == "sigma":
            logvar = torch.log(raw.square() + self.sigma_eps)
        elif self.head == "softplus":
            logvar = 2 * torch.log(F.softplus(raw) + self.min_sigma)
        else:
            logvar = raw
        return mu, logvar


class SimpleFCNNEncoder(nn.Module):
    """One bottom-up step: ``depth`` hidden layers, then a :class:`GaussianHead`.

    Args:
        in_dim: input features (flattened pixels for the first step, the previous step's
            hidden features above it).
        latent_dim: units of the latent layer this step parameterises.
        hidden_dim: width of each hidden layer.
        depth: number of hidden layers (the notes' encoder had 1); must be >= 1.
        activation: hidden activation (the notes: ``"tanh"``, later ``"relu"``).
        head: how the Gaussian head's second half is read (see :class:`GaussianHead`).
    Shapes: (B, in_dim) -> mu (B, D), logvar (B, D), features (B, hidden_dim); the features feed
    the next bottom-up step.
    """

    def __init__(self, in_dim: int, latent_dim: int, hidden_dim: int = 256, depth: int = 1,
                 activation: str = "relu", head: str = "logvar"):
        super().__init__()
        if depth < 1:
            raise ValueError(f"SimpleFCNNEncoder needs depth >= 1 (hidden layers), got {depth}")
        self.body = mlp(in_dim, hidden_dim, depth, activation)
        self.head = GaussianHead(hidden_dim, latent_dim, head)
        self.out_features = hidden_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.body(x)  # (B, hidden_dim)
        mu, logvar = self.head(h)
        return mu, logvar, h


class FCDecoder(nn.Module):
    """Latent (B, D) -> Bernoulli logits (B, out_dim) through hidden ReLU layers of ``hidden_dims``."""

    def __init__(self, latent_dim: int, out_dim: int, hidden_dims: tuple[int, ...] = (256, 256)):
        super().__init__()
        dims = (latent_dim, *hidden_dims)
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
