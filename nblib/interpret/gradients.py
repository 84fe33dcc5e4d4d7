"""Input-space gradients: of class logits on images, of any unit on Gaussian noise, as RGB.

Every function computes per-sample gradients of many output units in one backward pass:
the input batch is replicated once per unit (unit-major), each copy's own unit is summed,
and the gradient of that sum with respect to the copies is the stack of per-(sample, unit)
gradients. That needs no ``vmap`` support from any layer and no loop over samples or units;
``max_rows`` splits very large (units x samples) products into a few passes. Models run in
eval mode (BatchNorm with running statistics, GumbelConv deterministic), so samples do not
interact.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..data import CIFAR10_MEAN, CIFAR10_STD, denormalise_images, normalise_images


def cifar_normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (or [0, 1] float) images (N, 3, H, W) -> the fp32 normalised floats the models take
    (:func:`nblib.data.normalise_images` with the CIFAR-10 statistics)."""
    return normalise_images(images, CIFAR10_MEAN, CIFAR10_STD, dtype=torch.float32)


def cifar_denormalize(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`cifar_normalize`, clipped to [0, 1] for display. (N, 3, H, W)."""
    return denormalise_images(x, CIFAR10_MEAN, CIFAR10_STD).clamp(0, 1)


class _EvalMode:
    """Put a module in eval mode for the duration of a ``with`` block, then restore it."""

    def __init__(self, fn):
        self.module = fn if isinstance(fn, nn.Module) else None

    def __enter__(self):
        self.was_training = self.module.training if self.module is not None else False
        if self.module is not None:
            self.module.eval()

    def __exit__(self, *exc):
        if self.module is not None:
            self.module.train(self.was_training)


def unit_gradients(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    units: Sequence[int] | None = None,
    max_rows: int = 8192,
) -> torch.Tensor:
    """Gradient of each selected output unit with respect to each input sample.

    Args:
        fn: maps (M, C, H, W) inputs to (M, U) outputs, samples independent (an
            ``nn.Module`` is put in eval mode for the call and restored).
        x: (N, C, H, W) inputs.
        units: which of the U outputs (default all).
        max_rows: most replicated inputs per backward pass (memory bound).
    Returns:
        (N, K, C, H, W) with K = len(units): entry [n, k] = d fn(x)[n, units[k]] / d x[n].
    """
    if x.dim() != 4:
        raise ValueError(f"expected inputs (N, C, H, W), got shape {tuple(x.shape)}")
    n = x.shape[0]
    with _EvalMode(fn):
        if units is None:
            with torch.no_grad():
                units = range(fn(x[:1]).shape[1])
        units = torch.as_tensor(list(units), device=x.device, dtype=torch.long)
        per_pass = max(1, max_rows // n)  # units per backward pass
        chunks = []
        for unit_chunk in units.split(per_pass):
            k = unit_chunk.numel()
            xr = x.detach().repeat(k, 1, 1, 1).requires_grad_(True)  # (k*N, C, H, W), unit-major
            with torch.enable_grad():
                out = fn(xr)  # (k*N, U)
                own = out.gather(1, unit_chunk.repeat_interleave(n)[:, None])  # (k*N, 1)
                (grad,) = torch.autograd.grad(own.sum(), xr)
            chunks.append(grad.view(k, n, *x.shape[1:]))  # (k, N, C, H, W)
    return torch.cat(chunks).transpose(0, 1).contiguous()  # (N, K, C, H, W)


def input_gradients(model: nn.Module, x: torch.Tensor, classes: Sequence[int] | None = None) -> torch.Tensor:
    """Gradients of class logits with respect to the input images.

    Args:
        model: (N, C, H, W) -> (N, n_classes) logits (run in eval mode).
        x: (N, C, H, W) normalised images.
        classes: which logits (default all).
    Returns:
        (N, K, C, H, W).
    """
    return unit_gradients(model, x, classes)


def noise_gradients(
    fn: Callable[[torch.Tensor], torch.Tensor],
    n_samples: int = 16,
    shape: tuple[int, int, int] = (3, 32, 32),
    std: float = 1.0,
    units: Sequence[int] | None = None,
    seed: int = 0,
    device=None,
    max_rows: int = 8192,
) -> torch.Tensor:
    """Unit gradients on Gaussian-noise inputs: the log's input-independent view of a unit.

    Args:
        fn: (M, C, H, W) -> (M, U), e.g. ``backbone(model)`` for the representation units or
            the model itself for the classes.
        n_samples: noise images.
        shape: (C, H, W) of one input.
        std: noise standard deviation in the model's (normalised) input space.
        units: which outputs (default all).
        seed: seed of the noise (its own generator; the global RNG is untouched).
    Returns:
        (S, K, C, H, W) per-sample gradients; ``.mean(0)`` is the averaged picture.
    """
    if device is None:
        params = list(fn.parameters()) if isinstance(fn, nn.Module) else []
        device = params[0].device if params else torch.device("cpu")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    noise = (std * torch.randn((n_samples, *shape), generator=gen)).to(device)  # (S, C, H, W)
    return unit_gradients(fn, noise, units, max_rows)


def to_rgb(grads: torch.Tensor, mode: str = "minmax", eps: float = 1e-12) -> torch.Tensor:
    """Renormalise gradient images to displayable RGB in [0, 1], each image on its own scale.

    Args:
        grads: (..., 3, H, W).
        mode: "minmax" (min -> 0, max -> 1 per image, as in the log's figures) or "symmetric"
            (0 -> grey 0.5, +-max|g| -> 1/0, so the sign of every channel stays readable).
    Returns:
        Same shape, float in [0, 1]. An all-zero gradient maps to 0.5 (grey).
    """
    if grads.dim() < 3 or grads.shape[-3] != 3:
        raise ValueError(f"expected (..., 3, H, W) gradients, got shape {tuple(grads.shape)}")
    g = grads.detach().float()
    flat = g.flatten(-3)  # (..., 3*H*W)
    if mode == "minmax":
        lo = flat.amin(-1)[..., None, None, None]
        hi = flat.amax(-1)[..., None, None, None]
        span = hi - lo
        return torch.where(span > eps, (g - lo) / span.clamp_min(eps), torch.full_like(g, 0.5))
    if mode == "symmetric":
        m = flat.abs().amax(-1)[..., None, None, None]
        return torch.where(m > eps, 0.5 + 0.5 * g / m.clamp_min(eps), torch.full_like(g, 0.5))
    raise ValueError(f"mode must be 'minmax' or 'symmetric', got {mode!r}")
