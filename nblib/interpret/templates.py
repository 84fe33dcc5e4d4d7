"""Read a second-layer unit as a picture: its weights applied to the first-layer filters, tiled."""
from __future__ import annotations

import torch


def tiled_templates(weight: torch.Tensor, filters: torch.Tensor) -> torch.Tensor:
    """Each unit's linear template: at kernel position (i, j) the weighted sum of the filters it reads.

    Meant for the GumbelConv model, whose first-layer responses are max-pooled with stride 10 under
    10x10 filters, so neighbouring kernel positions look at (roughly) adjacent image patches: the
    tiles then form a picture of what the unit looks for (one filter per tile for k=1; a negative
    weight shows the filter's negative). Pooling, BatchNorm and the nonlinearity are ignored.

    Args:
        weight: (U, C, kh2, kw2) effective second-layer weights (e.g. ``layer.effective_weight(False)``).
        filters: (C, 3, kh, kw) first-layer filters.
    Returns:
        (U, 3, kh2 * kh, kw2 * kw).
    """
    if weight.dim() != 4 or filters.dim() != 4 or weight.shape[1] != filters.shape[0]:
        raise ValueError(f"weight (U, C, kh2, kw2) and filters (C, 3, kh, kw) must share C, got "
                         f"{tuple(weight.shape)} and {tuple(filters.shape)}")
    u, _, a, b = weight.shape
    _, d, kh, kw = filters.shape
    t = torch.einsum("ucij,cdpq->udipjq", weight.detach().float(), filters.detach().float())  # (U, 3, a, kh, b, kw)
    return t.reshape(u, d, a * kh, b * kw)  # (U, 3, a*kh, b*kw)
