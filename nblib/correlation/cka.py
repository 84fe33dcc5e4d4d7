"""Centred kernel alignment between layers, in sample space: memory O(N^2) whatever the width.

Linear CKA (Kornblith et al. 2019) compares the N x N Gram matrices K = A A^T and L = B B^T of two
layers' outputs on the same N inputs: CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)). The plain
(biased) HSIC makes independent wide layers look similar (with features >> samples it returns
0.9+ for independent random features); ``debiased=True`` uses the unbiased HSIC estimator of Song
et al. (2012), as Nguyen et al. (2021) do, which is about 0 for independent features.
:class:`MinibatchCKA` accumulates the unbiased HSICs over batches (Nguyen et al. 2021) for datasets
that do not fit in memory.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch


def gram_linear(x: torch.Tensor) -> torch.Tensor:
    """(N, ...) outputs -> (N, N) float64 Gram matrix of the flattened rows."""
    x = x.flatten(1).double()
    return x @ x.t()


def _center(k: torch.Tensor) -> torch.Tensor:
    return k - k.mean(0, keepdim=True) - k.mean(1, keepdim=True) + k.mean()


def hsic(k: torch.Tensor, l: torch.Tensor, debiased: bool = False) -> torch.Tensor:
    """HSIC of two (N, N) Gram matrices (up to a constant factor shared by all pairs).

    Args:
        debiased: the unbiased estimator of Song et al. (2012); needs N >= 4.
    """
    n = k.shape[0]
    if not debiased:
        return (_center(k) * _center(l)).sum() / (n - 1) ** 2
    if n < 4:
        raise ValueError(f"the unbiased HSIC needs at least 4 samples, got {n}")
    k = k.clone().fill_diagonal_(0)
    l = l.clone().fill_diagonal_(0)
    ks, ls = k.sum(0), l.sum(0)                                         # (N,) row sums
    value = (k * l).sum() + ks.sum() * ls.sum() / ((n - 1) * (n - 2)) - 2 * (ks @ ls) / (n - 2)
    return value / (n * (n - 3))


def _cka_from_grams(k: torch.Tensor, l: torch.Tensor, debiased: bool) -> float:
    kl, kk, ll = hsic(k, l, debiased), hsic(k, k, debiased), hsic(l, l, debiased)
    denom = (kk * ll).sqrt()
    return (kl / denom).item() if denom > 0 else float("nan")


def linear_cka(a: torch.Tensor, b: torch.Tensor, debiased: bool = False) -> float:
    """Linear CKA between a (N, Da...) and b (N, Db...) outputs on the same N inputs.

    1 for representations equal up to an orthogonal transform and isotropic scaling; near 0 for
    unrelated ones only with ``debiased=True`` when features outnumber samples.
    """
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"layers saw different numbers of inputs: {a.shape[0]} vs {b.shape[0]}")
    return _cka_from_grams(gram_linear(a), gram_linear(b), debiased)


def cka_matrix(outputs: Mapping[str, torch.Tensor], debiased: bool = False) -> torch.Tensor:
    """Linear CKA between all layer pairs: (L, L) float64, symmetric, diagonal 1 (each Gram built once)."""
    names = list(outputs)
    sizes = {outputs[n].shape[0] for n in names}
    if len(sizes) != 1:
        raise ValueError(f"layers saw different numbers of inputs: {sorted(sizes)}")
    grams = [gram_linear(outputs[n]) for n in names]
    self_hsic = [hsic(g, g, debiased) for g in grams]
    m = torch.eye(len(names), dtype=torch.float64)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            denom = (self_hsic[i] * self_hsic[j]).sqrt()
            m[i, j] = m[j, i] = (hsic(grams[i], grams[j], debiased) / denom).item() if denom > 0 else float("nan")
    return m


class MinibatchCKA:
    """Debiased linear CKA between all layer pairs, accumulated over batches (Nguyen et al. 2021).

    Each batch adds the unbiased HSIC of every pair; the result divides the sums. Memory is
    O(batch^2 + L^2) whatever the dataset size.

        acc = MinibatchCKA()
        for x in batches:
            acc.update(get_intermediate_outputs(model, x, names))   # name -> (B, D)
        acc.result()                                                  # (L, L)
    """

    def __init__(self) -> None:
        self.names: list[str] | None = None
        self.sums: torch.Tensor | None = None                           # (L, L) summed HSIC
        self.batches = 0

    def update(self, outputs: Mapping[str, torch.Tensor]) -> None:
        names = list(outputs)
        if self.names is None:
            self.names = names
            self.sums = torch.zeros(len(names), len(names), dtype=torch.float64)
        elif names != self.names:
            raise ValueError(f"layers changed between batches: {self.names} vs {names}")
        grams = [gram_linear(outputs[n]) for n in names]
        for i in range(len(names)):
            for j in range(i, len(names)):
                v = hsic(grams[i], grams[j], debiased=True).item()
                self.sums[i, j] += v
                if i != j:
                    self.sums[j, i] += v
        self.batches += 1

    def result(self) -> torch.Tensor:
        if self.sums is None:
            raise ValueError("no batch was added")
        d = self.sums.diagonal().clamp_min(0).sqrt()
        return self.sums / (d[:, None] * d[None, :])
