"""Slot Attention (Locatello et al. 2020) and the pieces around it: grid position
embeddings and a spatial-broadcast decoder with alpha masks over slots.

Shapes: B samples, N inputs (positions), D feature dims, K slots. Everything is batched;
the only Python loop is over the (few) attention iterations, which are sequential by
definition.

    sa = SlotAttention(num_slots=7, input_dim=128, slot_dim=64)
    slots, attn = sa(features, mask)       # (B, K, D), (B, K, N); attn sums to 1 over K
"""
from __future__ import annotations

import torch
from torch import nn


class SlotAttention(nn.Module):
    """Iterative attention in which slots compete for inputs.

    Per iteration: logits k_n . q_k / sqrt(D); softmax over the *slot* axis (each input
    distributes one unit of attention over the slots, so slots compete); each slot's
    update is the attention-weighted *mean* of the values over inputs; a GRU cell takes
    the update, and a residual MLP refines the slot. Slots start as samples of a learned
    Gaussian (mean ``mu``, per-dim ``log_sigma``).

    Args:
        num_slots: K, default number of slots (a call may ask for another number).
        input_dim: feature dims of the inputs.
        slot_dim: D, dims of slots, queries, keys and values.
        iters: attention iterations.
        mlp_hidden: hidden width of the residual MLP.
        eps: added to the attention before the weighted mean, so an input-less slot
            still gets a (uniform) update instead of 0/0.
    """

    def __init__(self, num_slots: int = 7, input_dim: int = 128, slot_dim: int = 64, iters: int = 3,
                 mlp_hidden: int = 128, eps: float = 1e-8):
        super().__init__()
        if num_slots < 1 or iters < 1:
            raise ValueError(f"num_slots and iters must be >= 1, got {num_slots}, {iters}")
        self.num_slots, self.slot_dim, self.iters, self.eps = num_slots, slot_dim, iters, eps
        self.scale = slot_dim ** -0.5
        self.slots_mu = nn.Parameter(torch.empty(1, 1, slot_dim))
        self.slots_log_sigma = nn.Parameter(torch.empty(1, 1, slot_dim))
        nn.init.xavier_uniform_(self.slots_mu)
        nn.init.xavier_uniform_(self.slots_log_sigma)
        self.norm_inputs = nn.LayerNorm(input_dim)
        self.norm_slots = nn.LayerNorm(slot_dim)
        self.norm_mlp = nn.LayerNorm(slot_dim)
        self.to_q = nn.Linear(slot_dim, slot_dim, bias=False)
        self.to_k = nn.Linear(input_dim, slot_dim, bias=False)
        self.to_v = nn.Linear(input_dim, slot_dim, bias=False)
        self.gru = nn.GRUCell(slot_dim, slot_dim)
        self.mlp = nn.Sequential(nn.Linear(slot_dim, mlp_hidden), nn.ReLU(), nn.Linear(mlp_hidden, slot_dim))

    def initial_slots(self, batch: int, num_slots: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, K, D) samples of the learned Gaussian."""
        noise = torch.randn(batch, num_slots, self.slot_dim, device=self.slots_mu.device,
                            dtype=self.slots_mu.dtype, generator=generator)
        return self.slots_mu + self.slots_log_sigma.exp() * noise

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None, num_slots: int | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Bind the inputs to slots.

        Args:
            inputs: (B, N, input_dim).
            mask: optional (B, N) bool, inputs that exist (e.g. cells inside an ARC grid);
                the others take no part in any slot's update.
            num_slots: K for this call (default ``self.num_slots``).
            generator: RNG for the slot initialisation (reproducible evaluation).
        Returns:
            slots (B, K, D) and the last iteration's attention (B, K, N), normalised over
            K (columns sum to 1) and zero at masked-out inputs.
        """
        if inputs.dim() != 3:
            raise ValueError(f"inputs of shape {tuple(inputs.shape)}: expected (B, N, input_dim)")
        b, n, _ = inputs.shape
        k_slots = num_slots or self.num_slots
        inputs = self.norm_inputs(inputs)
        k, v = self.to_k(inputs), self.to_v(inputs)  # (B, N, D) each
        keep = torch.ones(b, n, 1, device=inputs.device) if mask is None else mask.reshape(b, n, 1).to(inputs.dtype)
        slots = self.initial_slots(b, k_slots, generator)  # (B, K, D)
        for _ in range(self.iters):
            previous = slots
            q = self.to_q(self.norm_slots(slots))  # (B, K, D)
            logits = torch.einsum("bnd,bkd->bnk", k, q) * self.scale  # (B, N, K)
            attn = logits.softmax(dim=-1) * keep  # normalised over slots; 0 at masked inputs
            weights = (attn + self.eps) * keep
            weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(self.eps)  # mean over inputs
            updates = torch.einsum("bnk,bnd->bkd", weights, v)  # (B, K, D)
            slots = self.gru(updates.reshape(-1, self.slot_dim), previous.reshape(-1, self.slot_dim))
            slots = slots.view(b, k_slots, self.slot_dim)  # (B, K, D)
            slots = slots + self.mlp(self.norm_mlp(slots))
        return slots, attn.transpose(1, 2)  # (B, K, D), (B, K, N)


def grid_coordinates(height: int, width: int, max_side: int = 30, device=None) -> torch.Tensor:
    """(H, W, 4) absolute cell coordinates (y, x, 1 - y, 1 - x), scaled by ``max_side - 1``.

    Absolute (not relative to H, W) so a cell keeps its embedding when a batch is cropped
    to its grids' extent.
    """
    if height > max_side or width > max_side:
        raise ValueError(f"grid {height}x{width} larger than max_side={max_side}")
    scale = max(max_side - 1, 1)
    ys = torch.arange(height, device=device, dtype=torch.float32) / scale
    xs = torch.arange(width, device=device, dtype=torch.float32) / scale
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return torch.stack([yy, xx, 1 - yy, 1 - xx], dim=-1)  # (H, W, 4)


class PositionEmbedding(nn.Module):
    """Learned position embedding of grid cells.

    Args:
        dim: embedding dims.
        max_side: largest grid side.
        kind: "soft": a linear map of the 4 coordinates of :func:`grid_coordinates`
            (Locatello et al.'s soft position embedding; smooth in position); "table": one
            learned vector per cell (can single out any cell, as ARC's pixel-exact grids need).
    Input/output: ``forward(h, w)`` -> (H, W, dim), to add to channel-last features.
    """

    def __init__(self, dim: int, max_side: int = 30, kind: str = "soft"):
        super().__init__()
        if kind not in ("soft", "table"):
            raise ValueError(f"kind must be 'soft' or 'table', got {kind!r}")
        self.max_side, self.kind = max_side, kind
        self.proj = nn.Linear(4, dim)
        if kind == "table":
            self.table = nn.Parameter(0.02 * torch.randn(max_side, max_side, dim))

    def forward(self, height: int, width: int) -> torch.Tensor:
        emb = self.proj(grid_coordinates(height, width, self.max_side, self.proj.weight.device))  # (H, W, dim)
        return emb + self.table[:height, :width] if self.kind == "table" else emb


class SpatialBroadcastDecoder(nn.Module):
    """Decode every slot on its own, then mix the slots with alpha masks.

    Each slot is copied to every cell, a position embedding is added, and a per-cell MLP
    (``layers`` hidden layers of width ``hidden``) gives ``out_channels`` class logits plus one alpha logit. Alphas are a softmax over
    slots; the mixture of the slots' class distributions gives
    ``log p(c) = logsumexp_k(log alpha_k + log_softmax(logits_k)_c)``.

    Args:
        slot_dim: D.
        out_channels: classes per cell (10 ARC colours).
    Input/output:
        slots (B, K, D), grid size (H, W) -> log_probs (B, C, H, W), alpha (B, K, H, W).
    """

    def __init__(self, slot_dim: int = 64, out_channels: int = 10, hidden: int = 64, layers: int = 3, max_side: int = 30,
                 position: str = "table"):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.out_channels = out_channels
        # First layer W (slot + pos(coords)) = W slot + (W pos)(coords): computed per slot and
        # per cell, then broadcast-added, instead of a matmul over every (slot, cell) pair.
        self.slot_in = nn.Linear(slot_dim, hidden)
        self.pos = PositionEmbedding(hidden, max_side, position)
        body: list[nn.Module] = [nn.ReLU()]
        for _ in range(layers - 1):
            body += [nn.Linear(hidden, hidden), nn.ReLU()]
        self.mlp = nn.Sequential(*body, nn.Linear(hidden, out_channels + 1))

    def forward(self, slots: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.slot_in(slots)[:, :, None, None, :] + self.pos(height, width)  # (B, K, H, W, hidden)
        out = self.mlp(x)  # (B, K, H, W, C + 1)
        logits, alpha_logits = out[..., : self.out_channels], out[..., self.out_channels]
        log_alpha = alpha_logits.log_softmax(dim=1)  # (B, K, H, W), over slots
        log_probs = torch.logsumexp(log_alpha[..., None] + logits.log_softmax(dim=-1), dim=1)  # (B, H, W, C)
        return log_probs.permute(0, 3, 1, 2), log_alpha.exp()  # (B, C, H, W), (B, K, H, W)
