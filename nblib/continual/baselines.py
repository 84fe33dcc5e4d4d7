"""Class-incremental learning: references for the slot head on the same features, and the metric.

The slot head keeps its old slots, but two simple classifiers never change what they learned about
an old class either: nearest class mean (each class is its mean feature direction, computed
once) and 1-nearest-neighbour (:func:`~nblib.continual.evaluate.nearest_neighbour_predict` over
every example seen so far). Experience replay (Chaudhry et al. 2019, "On tiny episodic memories
in continual learning") is the standard cheap fix for a fine-tuned classifier: a small memory of
past examples, mixed into every batch (:class:`ReplayBuffer` with the ``replay`` argument of
:func:`~nblib.engine.hashing.fit_linear_probe`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def class_means(z: torch.Tensor, labels: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of the L2-normalised representations of each class.

    Args:
        z: (N, D) representations; labels: (N,) long in [0, n_classes).
    Returns:
        means (C, D) (zero rows for classes without examples) and counts (C,) long.
    """
    counts = torch.bincount(labels, minlength=n_classes)                        # (C,)
    sums = torch.zeros(n_classes, z.shape[1], dtype=z.dtype, device=z.device).index_add_(0, labels, F.normalize(z, dim=1))
    return sums / counts.clamp_min(1)[:, None].to(z.dtype), counts


@torch.no_grad()
def nearest_class_mean_predict(z: torch.Tensor, means: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Class whose mean direction is most cosine-similar (classes with no examples never win).

    Equivalent to the nearest of the normalised class means in Euclidean distance, for the
    normalised input (iCaRL's nearest-mean-of-exemplars rule, Rebuffi et al. 2017, with all
    examples as exemplars).

    Args:
        z: (N, D) queries; means: (C, D) and counts: (C,) from :func:`class_means`.
    Returns:
        (N,) predicted labels.
    """
    cos = F.normalize(z, dim=1) @ F.normalize(means, dim=1).T                   # (N, C)
    return cos.masked_fill(counts[None, :] == 0, -torch.inf).argmax(1)


class ReplayBuffer:
    """A small episodic memory, split evenly over the classes seen so far.

    After each task, :meth:`update` keeps ``capacity // classes seen`` random examples of every class
    (fewer where a class has fewer), drawn from what the memory held for old classes and from the
    task's data for new ones. Memory never grows past ``capacity``.

    Args:
        capacity: total examples kept.
        seed: seed of the random choice of examples.
    """

    def __init__(self, capacity: int, seed: int = 0):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.generator = torch.Generator().manual_seed(seed)
        self.z: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.labels is None else self.labels.shape[0]

    def memory(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(z (R, D), labels (R,)) for ``fit_linear_probe(replay=...)``, or None while empty."""
        return None if self.labels is None else (self.z, self.labels)

    @torch.no_grad()
    def update(self, z: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a finished task's data (z: (N, D), labels: (N,)) and rebalance over the classes."""
        if self.labels is not None:
            z, labels = torch.cat([self.z, z]), torch.cat([self.labels, labels])
        per_class = self.capacity // int(labels.unique().numel())
        key = torch.rand(labels.shape[0], generator=self.generator).to(labels.device)
        order = key.argsort()
        order = order[torch.sort(labels[order], stable=True).indices]           # grouped by class, random within
        grouped = labels[order]
        start = torch.searchsorted(grouped, grouped, right=False)               # first position of each class
        rank = torch.arange(grouped.shape[0], device=labels.device) - start     # position within its class
        keep = order[rank < per_class]
        self.z, self.labels = z[keep], labels[keep]


def forgetting(accuracy: torch.Tensor) -> float:
    """Mean accuracy drop of the earlier tasks from just after they were learned to the end.

    Args:
        accuracy: (T, T), ``accuracy[i, j]``: accuracy on task j's test data after training on
            tasks 0..i.
    Returns:
        ``mean over j < T-1 of accuracy[j, j] - accuracy[T-1, j]``.
    """
    t = accuracy.shape[0]
    if accuracy.shape != (t, t) or t < 2:
        raise ValueError(f"expected a (T, T) accuracy matrix with T >= 2, got {tuple(accuracy.shape)}")
    return float((accuracy.diagonal()[:-1] - accuracy[-1, :-1]).mean())
