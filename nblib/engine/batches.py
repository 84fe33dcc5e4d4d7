"""Batches from tensors already on the device, for :class:`~nblib.engine.Learner`: drawn with replacement,
or shuffled epochs. Both take the caller's generator, so a run is reproducible and the draws are the
same as a hand-written loop's with that generator."""
from __future__ import annotations

from collections.abc import Iterator

import torch


def random_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int,
                   generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless batches of ``batch_size`` examples drawn uniformly with replacement (stop with ``max_steps``).

    Args:
        x: (N, ...) inputs; y: (N, ...) targets, on any device.
        generator: draws the indices, on its own device (``torch.randint(..., device=generator.device)``).
    """
    n = x.shape[0]
    if n != y.shape[0]:
        raise ValueError(f"{n} inputs but {y.shape[0]} targets")
    while True:
        idx = torch.randint(0, n, (batch_size,), device=generator.device, generator=generator)  # (B,)
        yield x[idx], y[idx]


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator):
    """A callable for ``Learner(batches=...)``: each epoch a fresh permutation cut into full batches
    (the last partial batch is dropped)."""
    n = x.shape[0]
    if n != y.shape[0]:
        raise ValueError(f"{n} inputs but {y.shape[0]} targets")
    if n < batch_size:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} examples; lower it")

    def epoch(learner=None):
        perm = torch.randperm(n, device=generator.device, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = perm[i:i + batch_size]
            yield x[idx], y[idx]

    return epoch


__all__ = ["random_batches", "shuffled_batches"]
