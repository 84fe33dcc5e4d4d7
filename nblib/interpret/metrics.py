"""Numbers for gradient pictures: stability across inputs and specificity across classes.

Both use the cosine similarity of flattened gradient images. A zero gradient (a unit that
does not respond to an input) has no direction; it counts as cosine 0 (unrelated), so a
unit that is dead on some noise samples is not called stable.
"""
from __future__ import annotations

import torch


def _unit_vectors(g: torch.Tensor, start_dim: int, eps: float) -> torch.Tensor:
    v = g.detach().float().flatten(start_dim)
    norm = v.norm(dim=-1, keepdim=True)
    return torch.where(norm > eps, v / norm.clamp_min(eps), torch.zeros_like(v))


def gradient_stability(grads: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean pairwise cosine similarity of each unit's gradients across input samples.

    1: the unit asks for the same picture whatever the input (a stable, global meaning);
    about 0: unrelated pictures on every input (noise-like gradients); -1 needs two opposite
    samples (S = 2).

    Args:
        grads: (S, U, *dims) gradients of U units on S >= 2 inputs (e.g. from
            :func:`~nblib.interpret.noise_gradients`).
    Returns:
        (U,) mean over the S*(S-1) ordered pairs of distinct samples.
    """
    if grads.dim() < 3 or grads.shape[0] < 2:
        raise ValueError(f"expected (S >= 2, U, ...) gradients, got shape {tuple(grads.shape)}")
    s = grads.shape[0]
    v = _unit_vectors(grads, 2, eps).transpose(0, 1)  # (U, S, D)
    gram = v @ v.transpose(1, 2)  # (U, S, S) cosines
    off_diagonal = gram.sum((1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(1)  # (U,)
    return off_diagonal / (s * (s - 1))


def class_specificity(grads: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """How different the gradients of different classes are on the same input: 1 - cosine.

    0: every class logit asks for the same change of the image (the explanation does not
    tell the classes apart); 1: orthogonal; 2: opposite (typical of a 2-class softmax
    trained on one logit difference). With K > 2 classes, the mean over the K(K-1)/2 pairs.

    Args:
        grads: (N, K, *dims) gradients of K >= 2 class logits on N inputs
            (from :func:`~nblib.interpret.input_gradients`).
    Returns:
        (N,).
    """
    if grads.dim() < 3 or grads.shape[1] < 2:
        raise ValueError(f"expected (N, K >= 2, ...) gradients, got shape {tuple(grads.shape)}")
    k = grads.shape[1]
    v = _unit_vectors(grads, 2, eps)  # (N, K, D)
    gram = v @ v.transpose(1, 2)  # (N, K, K)
    pairs = torch.triu_indices(k, k, offset=1, device=grads.device)  # (2, K(K-1)/2)
    return (1 - gram[:, pairs[0], pairs[1]]).mean(1)  # (N,)


def unit_diversity(grads: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """How different each unit's gradient picture is from the other units': 1 - mean cosine.

    The counterpart of :func:`gradient_stability`: a network whose units all ask for the same
    picture is perfectly stable and tells nothing apart. 0: the unit's picture is shared by all
    others; 1: orthogonal to all of them on average.

    Args:
        grads: (U >= 2, *dims) one gradient picture per unit (e.g. the noise average
            ``noise_gradients(...).mean(0)``).
    Returns:
        (U,) 1 - mean cosine with the U - 1 other units.
    """
    if grads.dim() < 2 or grads.shape[0] < 2:
        raise ValueError(f"expected (U >= 2, ...) gradients, got shape {tuple(grads.shape)}")
    u = grads.shape[0]
    v = _unit_vectors(grads, 1, eps)  # (U, D)
    gram = v @ v.T  # (U, U)
    others = (gram.sum(1) - gram.diagonal()) / (u - 1)  # (U,)
    return 1 - others


def unit_usage(features: torch.Tensor, groups: int) -> torch.Tensor:
    """Share of each group's units that are the best match (argmax of their group) for some input.

    In a SoftMaxPool head every class pools a group of variants; a variant that never wins
    barely receives gradient and is wasted capacity. The log (16.09.2024) found BatchNorm
    without affine parameters necessary "to effectively use all the available hidden units".

    Args:
        features: (N, groups * k) representation units (e.g. ``backbone(model)(x)``).
        groups: number of groups (classes); consecutive blocks of k units form a group.
    Returns:
        (groups,) fraction of the k units of each group that win on at least one input.
    """
    if features.dim() != 2 or features.shape[1] % groups:
        raise ValueError(f"expected (N, groups * k) with groups={groups}, got {tuple(features.shape)}")
    n, k = features.shape[0], features.shape[1] // groups
    winners = features.detach().view(n, groups, k).argmax(-1)  # (N, groups)
    won = torch.zeros(groups, k, dtype=torch.bool, device=features.device)
    won[torch.arange(groups, device=features.device).expand(n, groups), winners] = True
    return won.float().mean(1)
