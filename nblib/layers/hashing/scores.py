"""Scoring representations against slots: cosine similarity, maximised over augmented views."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def as_views(z: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, 1, D); (N, A, D) augmented views pass through."""
    if z.dim() == 2:
        return z[:, None, :]  # (N, 1, D)
    if z.dim() == 3:
        return z
    raise ValueError(f"expected representations (N, D) or augmented views (N, A, D), got {tuple(z.shape)}")


def max_norm_view(z: torch.Tensor) -> torch.Tensor:
    """Each input's augmented view of largest L2 norm. (N, D) or (N, A, D) -> (N, D)."""
    v = as_views(z)
    best = v.norm(dim=-1).argmax(1)  # (N,)
    return v[torch.arange(v.shape[0], device=v.device), best]  # (N, D)


def slot_scores(z: torch.Tensor, directions: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Cosine of every input with every slot direction, maximised over augmented views.

    Args:
        z: (N, D) or (N, A, D) representations (normalised here).
        directions: (S, D) slot weights (normalised here).
        chunk: inputs scored at once (bounds memory to chunk x A x S).
    Returns:
        (N, S).
    """
    v = F.normalize(as_views(z), dim=-1)  # (N, A, D)
    d = F.normalize(directions, dim=-1)  # (S, D)
    if v.shape[1] == 1:
        return v[:, 0] @ d.T  # (N, S)
    parts = [(v[i : i + chunk] @ d.T).amax(1) for i in range(0, v.shape[0], chunk)]  # (n, A, S) -> (n, S)
    return torch.cat(parts) if parts else v.new_zeros(0, d.shape[0])  # (N, S)
