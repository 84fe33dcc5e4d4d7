"""Out-of-distribution scores on fixed features: the references beside the slot head's margin.

Every score here is "higher = more out of distribution", so ``auroc(score(ood), score(in))``
reads as the probability that an OOD input scores above an in-distribution one.

- :func:`max_softmax_score`: minus the maximum softmax probability of a classifier (Hendrycks &
  Gimpel 2017).
- :func:`knn_distance_score`: distance from the L2-normalised feature to its k-th nearest
  normalised training feature (Sun et al. 2022, "Out-of-distribution detection with deep nearest
  neighbors").
- :func:`fit_mahalanobis` / :func:`mahalanobis_score`: class means with one covariance shared by
  all classes; the score is the smallest squared Mahalanobis distance to a class mean (Lee et
  al. 2018, "A simple unified framework for detecting out-of-distribution samples and
  adversarial attacks", on the final features only: no input preprocessing, no feature ensemble).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


@torch.no_grad()
def max_softmax_score(logits: torch.Tensor) -> torch.Tensor:
    """(N, C) logits -> (N,) minus the largest softmax probability."""
    return -torch.softmax(logits, 1).amax(1)


@torch.no_grad()
def knn_distance_score(z: torch.Tensor, z_reference: torch.Tensor, k: int = 1, chunk: int = 2048) -> torch.Tensor:
    """Euclidean distance between normalised features and their k-th nearest normalised reference.

    Args:
        z: (N, D) queries; z_reference: (R, D) in-distribution (training) features.
        k: which neighbour (1: the nearest).
        chunk: queries at once (memory chunk x R).
    Returns:
        (N,) distances in [0, 2].
    """
    if not 1 <= k <= z_reference.shape[0]:
        raise ValueError(f"k must be in [1, {z_reference.shape[0]}], got {k}")
    ref = F.normalize(z_reference, dim=1)
    q = F.normalize(z, dim=1)
    kth = torch.cat([(q[i : i + chunk] @ ref.T).topk(k, dim=1).values[:, -1] for i in range(0, q.shape[0], chunk)])
    return (2 - 2 * kth).clamp_min(0).sqrt()                                   # |a - b|^2 = 2 - 2 cos for unit vectors


class GaussianClasses(NamedTuple):
    """Class-conditional Gaussians with a shared covariance (float64).

    Attributes:
        means: (C, D) class means (zero rows for absent classes).
        precision: (D, D) pseudo-inverse of the shared covariance.
        present: (C,) bool, classes with examples.
    """

    means: torch.Tensor
    precision: torch.Tensor
    present: torch.Tensor


@torch.no_grad()
def fit_mahalanobis(z: torch.Tensor, labels: torch.Tensor, n_classes: int) -> GaussianClasses:
    """Class means and the shared ("tied") covariance of Lee et al. 2018.

    The covariance is ``(1/N) sum_i (z_i - mu_{y_i})(z_i - mu_{y_i})^T`` and its inverse the
    Moore-Penrose pseudo-inverse (as their code, via scikit-learn's ``EmpiricalCovariance``):
    directions without variance in the training features do not count.

    Args:
        z: (N, D) training features; labels: (N,) long in [0, n_classes).
    """
    x = z.double()
    counts = torch.bincount(labels, minlength=n_classes)
    means = torch.zeros(n_classes, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, labels, x)
    means = means / counts.clamp_min(1)[:, None]
    centred = x - means[labels]                                                 # (N, D)
    covariance = centred.T @ centred / x.shape[0]
    return GaussianClasses(means, torch.linalg.pinv(covariance, hermitian=True), counts > 0)


@torch.no_grad()
def mahalanobis_score(z: torch.Tensor, model: GaussianClasses, chunk: int = 4096) -> torch.Tensor:
    """Smallest squared Mahalanobis distance to a class mean (Lee et al.'s score, negated).

    Args:
        z: (N, D) features; model: from :func:`fit_mahalanobis`.
    Returns:
        (N,) float64; higher = further from every class.
    """
    p, mu = model.precision, model.means[model.present]                          # (D, D), (C', D)
    mu_p = mu @ p                                                               # (C', D)
    mu_term = (mu_p * mu).sum(1)                                                # (C',) mu P mu
    out = []
    for i in range(0, z.shape[0], chunk):
        x = z[i : i + chunk].double()
        d = (x @ p * x).sum(1, keepdim=True) - 2 * x @ mu_p.T + mu_term[None, :]  # (n, C')
        out.append(d.amin(1))
    return torch.cat(out) if out else z.new_zeros(0, dtype=torch.float64)
