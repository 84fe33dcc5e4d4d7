"""Augmentation-driven feature variance: how much a layer's features move when one input is
augmented, relative to how much they move across the whole dataset."""
from __future__ import annotations

import torch


def augment_views(
    image: torch.Tensor,
    n: int = 300,
    seed: int = 0,
    degrees: float = 15.0,
    translate: float = 0.1,
    scale: tuple[float, float] = (0.9, 1.1),
    shear: float = 5.0,
) -> torch.Tensor:
    """``n`` random affine views of one image (kornia), reproducible from ``seed``.

    Args:
        image: (C, H, W) float.
        degrees, translate, scale, shear: the RandomAffine ranges (translate as a fraction of size).
    Returns:
        (n, C, H, W) views on the image's device.
    """
    import kornia.augmentation as K

    if image.dim() != 3:
        raise ValueError(f"expected one (C, H, W) image, got {tuple(image.shape)}")
    aug = K.RandomAffine(degrees=degrees, translate=(translate, translate), scale=scale, shear=shear, p=1.0)
    with torch.random.fork_rng(devices=[image.device] if image.is_cuda else []):
        torch.manual_seed(seed)
        return aug(image.float().expand(n, *image.shape))  # (n, C, H, W)


def augmentation_spread(view_outputs: torch.Tensor, reference_outputs: torch.Tensor) -> torch.Tensor:
    """Per-feature std across the views of one input / std across a reference dataset.

    0: the feature ignores the augmentations (invariant); 1: augmenting one digit moves it as
    much as changing the digit does. Features constant over the reference set are NaN.

    Args:
        view_outputs: (n_views, D) outputs for the augmented views.
        reference_outputs: (M, D) outputs for M different inputs.
    Returns:
        (D,) ratios.
    """
    if view_outputs.shape[1] != reference_outputs.shape[1]:
        raise ValueError(f"feature counts differ: {view_outputs.shape[1]} vs {reference_outputs.shape[1]}")
    ref = reference_outputs.float().std(0, unbiased=False)
    spread = view_outputs.float().std(0, unbiased=False) / ref
    return torch.where(ref > 1e-12, spread, torch.full_like(spread, float("nan")))


def spread_per_input(model: torch.nn.Module, images: torch.Tensor, reference_outputs: dict[str, torch.Tensor],
                     names: list[str], views: int = 300, seed: int = 0, normalise=None, progress: bool = False):
    """Median augmentation spread of every layer for each of several inputs.

    Args:
        images: (M, C, H, W) raw inputs in [0, 1], each augmented ``views`` times (seed ``seed + i``).
        reference_outputs: name -> (N, D) outputs on N different inputs (the denominator's spread).
        normalise: applied to the views before the forward pass (e.g. mean/std normalisation).
    Returns:
        (M, L) float tensor: row i, column l = median over layer l's features of
        std across input i's views / std across the reference inputs.
    """
    from tqdm.auto import tqdm

    from .core import get_intermediate_outputs

    out = torch.empty(len(images), len(names))
    for i in tqdm(range(len(images)), desc="augmented inputs", disable=not progress):
        v = augment_views(images[i], n=views, seed=seed + i)                    # (V, C, H, W)
        outs = get_intermediate_outputs(model, normalise(v) if normalise else v, names)
        for j, n in enumerate(names):
            out[i, j] = augmentation_spread(outs[n], reference_outputs[n]).nanmedian().item()
    return out
