"""The latent DAG between two layers: each child unit reads only its parent units.

:class:`DAGInteractionLayer` maps a parent layer's sample ``z`` (B, P) to the conditional Gaussian
of the child layer, ``(mu, logvar)`` (B, C). Which parent feeds which child is a fixed boolean
adjacency (C, P), applied as a mask on the weights, so the layer is sparse in effect and dense in
memory (one batched ``einsum``, no loop over units).

Two capacities, as in the research notes:

- ``n_interm_layers=0``: one masked linear map per output (the original; its weight matrix is
  the learned DAG and can be plotted directly).
- ``n_interm_layers=K >= 1`` ("increased capacity"): every child owns ``K`` dense hidden layers of
  ``interm_unit_dim`` units; the first reads only the child's parents, the rest are private to
  the child, then a per-child head gives ``(mu, logvar)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .activations import make_activation


def banded_adjacency(n_children: int, n_parents: int, parents_per_child: int = 2) -> torch.Tensor:
    """A sparse default DAG: child ``j`` reads parents ``j, j+1, ..., j+k-1`` (mod P).

    Returns:
        (n_children, n_parents) bool; every parent feeds at least one child when
        ``n_children * parents_per_child >= n_parents``.
    """
    if not 1 <= parents_per_child <= n_parents:
        raise ValueError(f"parents_per_child must be in [1, {n_parents}], got {parents_per_child}")
    child = torch.arange(n_children)[:, None]  # (C, 1)
    parent = (child + torch.arange(parents_per_child)[None, :]) % n_parents  # (C, k)
    adj = torch.zeros(n_children, n_parents, dtype=torch.bool)
    adj[child.expand_as(parent), parent] = True
    return adj


class DAGInteractionLayer(nn.Module):
    """Conditional prior of a child layer given its parent layer, through a masked DAG.

    Args:
        adjacency: (C, P) bool or 0/1; ``adjacency[c, p]`` lets parent ``p`` feed child ``c``.
            A child without parents gets a learned constant prior (its bias).
        interm_unit_dim: H, hidden units per child when ``n_interm_layers >= 1``.
        n_interm_layers: K, dense hidden layers per child (0: one masked linear map).
        activation: hidden activation of the intermediate layers.
    Shapes: z (B, P) -> mu (B, C), logvar (B, C).
    """

    def __init__(self, adjacency: torch.Tensor, interm_unit_dim: int = 16, n_interm_layers: int = 0,
                 activation: str = "relu"):
        super().__init__()
        adjacency = torch.as_tensor(adjacency).bool()
        if adjacency.dim() != 2:
            raise ValueError(f"adjacency must be (children, parents), got shape {tuple(adjacency.shape)}")
        if n_interm_layers > 0 and interm_unit_dim < 1:
            raise ValueError("interm_unit_dim must be >= 1 when n_interm_layers >= 1")
        n_children, n_parents = adjacency.shape
        self.register_buffer("mask", adjacency.float())  # (C, P)
        self.n_interm_layers = n_interm_layers
        fan_in = adjacency.sum(1).clamp_min(1).float()  # (C,) parents per child
        if n_interm_layers == 0:
            self.weight = nn.Parameter(self._uniform((2, n_children, n_parents), fan_in[None, :, None]))
            self.bias = nn.Parameter(torch.zeros(2, n_children))
            return
        h = interm_unit_dim
        self.w_in = nn.Parameter(self._uniform((n_children, h, n_parents), fan_in[:, None, None]))
        self.b_in = nn.Parameter(torch.zeros(n_children, h))
        self.w_hidden = nn.ParameterList(
            [nn.Parameter(self._uniform((n_children, h, h), torch.tensor(float(h)))) for _ in range(n_interm_layers - 1)]
        )
        self.b_hidden = nn.ParameterList([nn.Parameter(torch.zeros(n_children, h)) for _ in range(n_interm_layers - 1)])
        self.w_out = nn.Parameter(self._uniform((n_children, 2, h), torch.tensor(float(h))))
        self.b_out = nn.Parameter(torch.zeros(n_children, 2))
        self.act = make_activation(activation)

    @staticmethod
    def _uniform(shape, fan_in: torch.Tensor) -> torch.Tensor:
        """nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with a per-child fan-in."""
        return (torch.rand(shape) * 2 - 1) / fan_in.sqrt()

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parent sample z (B, P) -> the child layer's conditional prior ``(mu, logvar)``, each (B, C)."""
        if self.n_interm_layers == 0:
            out = torch.einsum("bp,kcp->bkc", z, self.weight * self.mask) + self.bias  # (B, 2, C)
            return out[:, 0], out[:, 1]
        h = self.act(torch.einsum("bp,chp->bch", z, self.w_in * self.mask[:, None, :]) + self.b_in)  # (B, C, H)
        for w, b in zip(self.w_hidden, self.b_hidden):
            h = self.act(torch.einsum("bch,cgh->bcg", h, w) + b)  # (B, C, H)
        out = torch.einsum("bch,ckh->bck", h, self.w_out) + self.b_out  # (B, C, 2)
        return out[..., 0], out[..., 1]

    def connection_strength(self) -> torch.Tensor:
        """(C, P) how strongly each parent feeds each child: |weight| of the mean map (K=0), else
        the norm of the first intermediate layer's weights from that parent; 0 off the DAG."""
        with torch.no_grad():
            if self.n_interm_layers == 0:
                return (self.weight[0] * self.mask).abs()
            return (self.w_in * self.mask[:, None, :]).norm(dim=1)

    def extra_repr(self) -> str:
        c, p = self.mask.shape
        cap = "masked linear" if self.n_interm_layers == 0 else f"{self.n_interm_layers} x {self.b_in.shape[1]} units per child"
        return f"parents={p}, children={c}, edges={int(self.mask.sum())}, {cap}"
