"""Augmentation max-matching: score an input by its best-matching view among fixed augmentations.

The research log (14.10-28.10.2024) adds inductive bias by augmenting each input with a fixed
set of identity-preserving transforms and keeping, for every unit, the maximum over the views:
a slot that matches the image "up to a flip or a small rotation" scores as if it matched
exactly. The views are computed with kornia in one batched call (no loop over views or
samples), so the cost is one forward pass on A*N images.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from kornia.geometry.transform import rotate
from torch import nn


def view_specs(angles: Sequence[float] = (0.0, -15.0, 15.0), flip: bool = True) -> list[tuple[float, bool]]:
    """The fixed views as (angle in degrees, flipped) pairs: every angle, with and without flip."""
    return [(float(a), f) for f in ((False, True) if flip else (False,)) for a in angles]


def augment_views(
    x: torch.Tensor,
    angles: Sequence[float] = (0.0, -15.0, 15.0),
    flip: bool = True,
    padding_mode: str = "reflection",
) -> torch.Tensor:
    """All fixed views of a batch, stacked view-major.

    Args:
        x: (N, C, H, W) images.
        angles: rotations in degrees (counter-clockwise, about the centre).
        flip: also every angle after a left-right flip (flip first, then rotate).
        padding_mode: kornia's fill for pixels rotated in from outside ("zeros", "border",
            "reflection").
    Returns:
        (A * N, C, H, W) with A = len(angles) * (2 if flip else 1); rows a*N .. a*N + N - 1 are
        view a of :func:`view_specs`.
    """
    if x.dim() != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(x.shape)}")
    specs = view_specs(angles, flip)
    n = x.shape[0]
    flips = torch.tensor([f for _, f in specs], device=x.device).repeat_interleave(n)  # (A*N,)
    degrees = torch.tensor([a for a, _ in specs], device=x.device, dtype=x.dtype).repeat_interleave(n)  # (A*N,)
    stacked = x.repeat(len(specs), 1, 1, 1)  # (A*N, C, H, W)
    stacked = torch.where(flips[:, None, None, None], stacked.flip(-1), stacked)
    if any(a != 0.0 for a, _ in specs):
        rotated = rotate(stacked, degrees, padding_mode=padding_mode)
        stacked = torch.where((degrees != 0)[:, None, None, None], rotated, stacked)  # angle 0: exact identity
    return stacked


def augmax_scores(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    angles: Sequence[float] = (0.0, -15.0, 15.0),
    flip: bool = True,
    padding_mode: str = "reflection",
) -> torch.Tensor:
    """Maximum of ``fn`` over the fixed views of each input.

    Args:
        fn: maps (M, C, H, W) images to (M, ...) scores.
        x: (N, C, H, W).
    Returns:
        (N, ...): elementwise max over the A views.
    """
    views = augment_views(x, angles, flip, padding_mode)  # (A*N, C, H, W)
    scores = fn(views)  # (A*N, ...)
    a = views.shape[0] // x.shape[0]
    return scores.view(a, x.shape[0], *scores.shape[1:]).amax(0)  # (A, N, ...) -> (N, ...)


class AugMax(nn.Module):
    """Wrap a module so that each output unit is its maximum over fixed augmented views.

    Args:
        module: maps (M, C, H, W) -> (M, D) (e.g. a backbone).
        angles, flip, padding_mode: the views, see :func:`augment_views`.
    Input/output:
        (N, C, H, W) -> (N, D). A BatchNorm inside ``module`` sees all A*N views as one batch.
    """

    def __init__(self, module: nn.Module, angles: Sequence[float] = (0.0, -15.0, 15.0), flip: bool = True,
                 padding_mode: str = "reflection"):
        super().__init__()
        self.module = module
        self.angles, self.flip, self.padding_mode = tuple(float(a) for a in angles), flip, padding_mode

    @property
    def n_views(self) -> int:
        return len(view_specs(self.angles, self.flip))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return augmax_scores(self.module, x, self.angles, self.flip, self.padding_mode)

    def extra_repr(self) -> str:
        return f"angles={self.angles}, flip={self.flip}, views={self.n_views}"
