"""The four gradient numbers of notebook 05, for one network, in one call.

    s = gradient_scores(model, backbone(model), test_images, n_noise=8)
    s["unit stability"]        # (D,)  per representation unit, on noise
    s["unit diversity"]        # (D,)  per unit, of its noise-averaged picture
    s["class stability"]       # (K,)  per class logit, on noise
    s["class specificity"]     # (N,)  per test image

The noise images are drawn from their own generator (``seed``), so two networks scored with the same
seed see the same noise: differences between a trained network and its randomised copy are paired.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from .gradients import input_gradients, noise_gradients
from .metrics import class_specificity, gradient_stability, unit_diversity

__all__ = ["SCORE_NAMES", "gradient_scores", "mean_scores"]

#: the keys of :func:`gradient_scores`, units first.
SCORE_NAMES = ("unit stability", "unit diversity", "class stability", "class specificity")


def gradient_scores(
    model: torch.nn.Module,
    features: Callable[[torch.Tensor], torch.Tensor] | None,
    images: torch.Tensor | None,
    n_noise: int = 8,
    noise_std: float = 1.0,
    seed: int = 0,
    device=None,
    shape: tuple[int, int, int] | None = None,
) -> dict[str, torch.Tensor]:
    """Unit stability and diversity, class-logit stability, class specificity of one network.

    Args:
        model: (M, 3, H, W) -> (M, K) class logits (run in eval mode).
        features: (M, 3, H, W) -> (M, D) representation units, e.g. ``backbone(model)``; None skips
            the two unit scores.
        images: (N, 3, H, W) normalised test images for class specificity; None skips it.
        n_noise: Gaussian-noise images (>= 2) for the stability scores and the unit pictures.
        noise_std: their standard deviation (normalised input units).
        seed: seed of the noise.
        shape: (C, H, W) of a noise image (default: that of ``images``, else (3, 32, 32)).
    Returns:
        name -> per-unit / per-class / per-image tensor on the CPU (keys of :data:`SCORE_NAMES`
        that were not skipped). Unit diversity depends on ``n_noise`` (fewer samples leave more
        sample noise in each unit's averaged picture and make units look more different), so
        compare it only at equal ``n_noise``.
    """
    if shape is None:
        shape = tuple(images.shape[1:]) if images is not None else (3, 32, 32)
    out = {}
    if features is not None:
        g = noise_gradients(features, n_samples=n_noise, shape=shape, std=noise_std, seed=seed, device=device)  # (S, D, ...)
        out["unit stability"] = gradient_stability(g).cpu()
        out["unit diversity"] = unit_diversity(g.mean(0)).cpu()
    g = noise_gradients(model, n_samples=n_noise, shape=shape, std=noise_std, seed=seed + 1, device=device)  # (S, K, ...)
    out["class stability"] = gradient_stability(g).cpu()
    if images is not None:
        out["class specificity"] = class_specificity(input_gradients(model, images)).cpu()
    return out


def mean_scores(scores: dict[str, torch.Tensor]) -> dict[str, float]:
    """The mean of each score over its units / classes / images (one number per score)."""
    return {k: v.float().mean().item() for k, v in scores.items()}
