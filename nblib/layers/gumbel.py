"""GumbelConv2d: a convolution whose filters read one (or k) input channels per kernel position.

Each output filter o and kernel position (i, j) holds a categorical distribution over the
input channels, ``softmax(logit_scale * logits[o, :, i, j])``. The convolution uses the
weight ``weight * mask`` where ``mask[o, :, i, j]`` is

- training, ``hard=True``: a k-hot sample (Gumbel top-k of the perturbed logits) in the
  forward pass, with the gradient of its relaxation (straight-through);
- training, ``hard=False``: the relaxation itself (softmax for k=1, a sum of k successive
  masked softmaxes for k > 1, Xie & Ermon 2019), which tends to the k-hot sample as tau -> 0;
- evaluation: the deterministic top-k of the logits (no noise).

Training anneals towards one-hot by lowering ``tau`` and raising ``logit_scale``
(:func:`anneal_gumbel`): a larger logit scale makes the fixed-size Gumbel noise matter less,
so samples concentrate on the argmax, and a smaller tau makes the relaxation (and thus the
straight-through gradient) sharper. With k=1 the filter is readable as "channel c1 here,
channel c2 to the top-left, ...". Like the research log notes, the layer has *more*
parameters than the Conv2d it restricts: the weights plus one logit per (filter, channel,
position).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .positive import positive_weight, raw_from_positive


def sample_gumbel(shape, device=None, dtype=torch.float32, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log(U))``, U ~ Uniform(0, 1)."""
    u = torch.rand(shape, device=device, dtype=dtype, generator=generator)
    tiny = torch.finfo(dtype).tiny
    exponential = -torch.log(u.clamp_min(tiny))  # Exp(1) samples, > 0
    return -torch.log(exponential.clamp_min(tiny))


def k_hot(scores: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """1 at the k largest entries of ``scores`` along ``dim``, 0 elsewhere (same shape)."""
    idx = scores.topk(k, dim=dim).indices
    return torch.zeros_like(scores).scatter_(dim, idx, 1.0)


def relaxed_k_hot(scores: torch.Tensor, k: int, tau: float, dim: int) -> torch.Tensor:
    """Continuous relaxation of :func:`k_hot`: sum of k softmaxes, each masking what came before.

    ``p_1 = softmax(s / tau)``, ``s <- s + log(1 - p_j)``, ``p_{j+1} = softmax(s / tau)``;
    returns ``sum_j p_j`` (sums to k along ``dim``; equals ``softmax(s / tau)`` for k = 1; tends to
    the k-hot of ``s`` as tau -> 0). The loop runs over k (a handful), not over data.
    """
    out = torch.zeros_like(scores)
    s = scores
    for _ in range(k):
        p = torch.softmax(s / tau, dim=dim)
        out = out + p
        s = s + torch.log1p(-p.clamp(max=1 - 1e-6))
    return out


def gumbel_k_hot(
    logits: torch.Tensor,
    k: int = 1,
    tau: float = 1.0,
    hard: bool = True,
    dim: int = -1,
    noise: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Gumbel-softmax generalised to k of n: ``F.gumbel_softmax`` with top-k instead of argmax.

    Args:
        logits: (..., n, ...) unnormalised log-probabilities along ``dim``.
        k: how many entries to select (1 <= k <= n).
        tau: relaxation temperature (> 0).
        hard: forward pass exactly k-hot, gradient of the relaxation (straight-through).
        noise: add Gumbel noise (False: the deterministic top-k / its relaxation).
    Returns:
        Same shape as ``logits``; sums to k along ``dim``.
    """
    n = logits.shape[dim]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")
    scores = logits + sample_gumbel(logits.shape, logits.device, logits.dtype, generator) if noise else logits
    soft = relaxed_k_hot(scores, k, tau, dim)
    if not hard:
        return soft
    # hard + (soft - soft) is exactly k-hot in the forward pass and carries soft's gradient
    return k_hot(scores.detach(), k, dim) + (soft - soft.detach())


class GumbelConv2d(nn.Module):
    """Conv2d whose every output filter selects k input channels per kernel position.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, bias: as ``nn.Conv2d``.
        k: input channels selected per (filter, position); 1 is the log's GumbelConv.
        hard: straight-through k-hot samples in training (else the soft relaxation).
        tau: Gumbel-softmax temperature (settable attribute; see :func:`anneal_gumbel`).
        logit_scale: multiplies the logits before the noise (settable attribute).
        positive: non-negative weights through :func:`positive_weight` (``reparam``).
        reparam: the positive reparameterisation ("square", "softplus", "exp"; see :mod:`nblib.layers.positive`).
    Input/output:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with H', W' as for ``nn.Conv2d``.
    Parameters:
        ``weight_param`` (out, in, kh, kw) and ``logits`` (out, in, kh, kw).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        k: int = 1,
        hard: bool = True,
        tau: float = 1.0,
        logit_scale: float = 1.0,
        positive: bool = False,
        reparam: str = "square",
    ):
        super().__init__()
        if not 1 <= k <= in_channels:
            raise ValueError(f"k must be in [1, in_channels={in_channels}], got {k}")
        ref = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=bias)
        kh, kw = ref.kernel_size
        self.in_channels, self.out_channels, self.k = in_channels, out_channels, k
        self.kernel_size, self.stride, self.padding = ref.kernel_size, ref.stride, ref.padding
        self.hard, self.tau, self.logit_scale = hard, float(tau), float(logit_scale)
        self.positive, self.reparam = positive, reparam
        # Only k of in_channels weights per position are used: init for fan-in k*kh*kw.
        bound = 1.0 / math.sqrt(k * kh * kw)
        w = torch.empty(out_channels, in_channels, kh, kw).uniform_(-bound, bound)
        self.weight_param = nn.Parameter(raw_from_positive(w.abs(), reparam) if positive else w)
        self.logits = nn.Parameter(0.1 * torch.randn(out_channels, in_channels, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    @property
    def weight(self) -> torch.Tensor:
        """Unmasked weights (out, in, kh, kw), non-negative when ``positive``."""
        return positive_weight(self.weight_param, self.reparam) if self.positive else self.weight_param

    def selection(self, sample: bool | None = None) -> torch.Tensor:
        """The channel mask (out, in, kh, kw), k-hot or relaxed along ``in``.

        Args:
            sample: draw Gumbel noise (default: in training mode only). Without noise the
                mask is the hard top-k of the logits, whatever ``hard`` says.
        """
        sample = self.training if sample is None else sample
        scaled = self.logit_scale * self.logits
        if not sample:
            return k_hot(scaled.detach(), self.k, dim=1)
        return gumbel_k_hot(scaled, self.k, self.tau, self.hard, dim=1)

    def effective_weight(self, sample: bool | None = None) -> torch.Tensor:
        """``weight * selection``: the weight the convolution uses, (out, in, kh, kw)."""
        return self.weight * self.selection(sample)

    def selected_channels(self) -> torch.Tensor:
        """Deterministic choice: (out, k, kh, kw) input-channel indices, best first."""
        return self.logits.detach().topk(self.k, dim=1).indices

    def confidence(self) -> torch.Tensor:
        """Mean probability mass of the top-k channels under ``softmax(logit_scale * logits)``.

        k/in_channels for uniform logits, 1 when every distribution is k-hot: how far
        annealing has gone towards a deterministic choice. A 0-d tensor.
        """
        p = torch.softmax(self.logit_scale * self.logits.detach(), dim=1)  # (out, in, kh, kw)
        return p.topk(self.k, dim=1).values.sum(1).mean()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, k={self.k}, hard={self.hard}, tau={self.tau:.3g}, "
                f"logit_scale={self.logit_scale:.3g}, positive={self.positive}")


def anneal_gumbel(
    model: nn.Module,
    progress: float,
    tau: tuple[float, float] = (1.0, 0.1),
    logit_scale: tuple[float, float] = (1.0, 10.0),
) -> tuple[float, float]:
    """Set tau and logit_scale of every GumbelConv2d in ``model`` for training progress in [0, 1].

    Both move geometrically from their start to their end value (tau down, logit scale up),
    which sharpens the channel distributions towards one-hot. Pure Python floats: safe to
    call every step without a host-device synchronisation.

    Returns:
        (tau, logit_scale) now in force.
    """
    p = min(max(float(progress), 0.0), 1.0)
    t = tau[0] * (tau[1] / tau[0]) ** p
    s = logit_scale[0] * (logit_scale[1] / logit_scale[0]) ** p
    for m in model.modules():
        if isinstance(m, GumbelConv2d):
            m.tau, m.logit_scale = t, s
    return t, s
