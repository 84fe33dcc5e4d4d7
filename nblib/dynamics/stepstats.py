"""The tracker's per-step statistics: a pure reference function (compiled on a GPU) and a
buffered eager version for the CPU that gives the same numbers in fewer, cheaper passes.

Why two versions. On a GPU, launch overhead dominates, so :func:`step_statistics` is written
without host reads for ``torch.compile`` to fuse. On the CPU torch.compile is not used, and
every tensor operation is one pass over the 1.1M-component flat vectors. Profiling the eager
reference there showed the cost was not arithmetic but how it was spelled:

- comparisons into bool tensors and sums of bool tensors are not vectorised on the CPU
  (about 1-1.6 ms each for 1.1M components, against 0.1-0.3 ms for float32 ops),
  ``torch.where(..., out=)`` costs about 10 ms and ``torch._foreach_norm`` 0.6 ms per tensor;
- every step allocated some twenty temporaries and copied four state vectors.

:class:`EagerStepStatistics` therefore keeps masks as float32 0/1 vectors (comparisons written
into float buffers), counts conjunctions as dot products of masks (sums of 0/1 in float32 are
exact below 2^24 components per count), writes every intermediate into preallocated buffers, and
swaps the current and previous buffers instead of copying them. The counts are identical to
:func:`step_statistics`; norms agree to float32 rounding (the reduction order can differ).
"""
from __future__ import annotations

import math

import torch

SCALARS = (
    "zero_grads", "zero_grad_fraction", "low_grads", "released_fraction", "retained_fraction",
    "sign_flip_fraction", "weight_diff_norm", "grad_norm", "grad_ema_norm", "weight_ema_norm",
    "minima_crossed", "maxima_crossed", "zero_grad_moved", "zero_grad_move_norm",
)


def step_statistics(grads, params, prev_g, prev_w, prev_dw, prev_low, ema_g, ema_w, layer_bounds,
                    zero_thresh: float, low_thresh: float, ema: float):
    """One step of the tracker as a pure tensor function (state tensors are updated in place).

    Written without Python branching or host reads so that ``torch.compile`` fuses it into a
    few kernels: per-op launch overhead, not arithmetic, dominates on a GPU. It is also the
    reference that :class:`EagerStepStatistics` is tested against.

    Args:
        grads, params: the model's gradient and parameter tensors (same order).
        prev_g, prev_w, prev_dw: (P,) previous flat gradient, weights, and weight move.
        prev_low: (P,) bool, |prev_g| < low_thresh.
        ema_g, ema_w: (P,) moving averages.
        layer_bounds: (L + 1,) long start offsets of the layers in the flat vector, then P.
    Returns:
        row: (len(SCALARS),) float32 in SCALARS order; layer_zero: (n_layers,) zero-gradient counts.
    """
    g = torch.cat([t.reshape(-1) for t in grads]).float()  # (P,)
    w = torch.cat([t.reshape(-1) for t in params]).float()  # (P,)
    a = g.abs()
    zero, low = a < zero_thresh, a < low_thresh
    f32 = torch.float32
    low_prev_count = prev_low.sum(dtype=f32)
    retained_count = (prev_low & low).sum(dtype=f32)
    denom = low_prev_count.clamp_min(1)
    flipped = (g * prev_g) < 0
    dw = w - prev_w
    # g was evaluated at the weights before this step (prev_w), prev_g one step earlier: the
    # move between those two evaluations is the previous step's weight move, prev_dw.
    curvature = (g - prev_g) * prev_dw  # sign of the secant dg/dw
    zero_dw = torch.where(zero, dw, torch.zeros_like(dw))  # moves of weights that had no gradient
    zero_count = zero.sum(dtype=f32)
    ema_g.lerp_(g, 1 - ema)
    ema_w.lerp_(w, 1 - ema)
    row = torch.stack([
        zero_count, zero_count / g.numel(), low_prev_count, (low_prev_count - retained_count) / denom,
        retained_count / denom, flipped.sum(dtype=f32) / g.numel(), dw.norm(), g.norm(), ema_g.norm(), ema_w.norm(),
        (flipped & (curvature > 0)).sum(dtype=f32), (flipped & (curvature < 0)).sum(dtype=f32),
        (zero_dw != 0).sum(dtype=f32), zero_dw.norm(),
    ])
    # per-layer counts from one running sum read at the layer boundaries (layers are contiguous
    # in the flat vector); a scatter-add into L bins would serialise on atomics
    running = torch.cat([torch.zeros(1, dtype=torch.int32, device=g.device), zero.to(torch.int32).cumsum(0, dtype=torch.int32)])
    layer_zero = (running[layer_bounds[1:]] - running[layer_bounds[:-1]]).to(f32)
    prev_g.copy_(g)
    prev_w.copy_(w)
    prev_dw.copy_(dw)
    prev_low.copy_(low)
    return row, layer_zero


class EagerStepStatistics:
    """:func:`step_statistics` for eager execution, with all state in preallocated flat buffers.

    Args:
        n: flat size P (all tracked components).
        layer_sizes: components per layer, in flat order (layers are contiguous).
        device: where the buffers live.
        zero_thresh, low_thresh, ema: as in the tracker.
    Memory: 14 float32 vectors of P (previous gradient, weights, move and low-state mask, two
    moving averages, the current gradient, weights, move and mask, four scratch vectors),
    allocated once.
    """

    def __init__(self, n: int, layer_sizes: list[int], device: torch.device, zero_thresh: float, low_thresh: float,
                 ema: float):
        self.layer_sizes, self.zero_thresh, self.low_thresh, self.ema = layer_sizes, zero_thresh, low_thresh, ema
        self.n = n
        self._vectors = torch.zeros(14, n, device=device)  # one allocation; rows are renamed, never copied
        (self.prev_g, self.prev_w, self.prev_dw, self.prev_low, self.ema_g, self.ema_w, self._g, self._w, self._dw,
         self._low, self._a, self._t, self._u, self._zero) = self._vectors
        self.low_count = None  # components in the low state at the previous step (carried, not recounted)
        self._zeros = torch.zeros((), device=device)

    def start(self, grads, params) -> None:
        """First step: the state starts from the current values (as the reference does)."""
        torch.cat([t.reshape(-1) for t in grads], out=self.prev_g)
        torch.cat([t.reshape(-1) for t in params], out=self.prev_w)
        self.prev_dw.zero_()
        torch.lt(self.prev_g.abs(), self.low_thresh, out=self.prev_low)
        self.low_count = self.prev_low.sum()
        self.ema_g.copy_(self.prev_g)
        self.ema_w.copy_(self.prev_w)

    def __call__(self, grads, params) -> tuple[torch.Tensor, torch.Tensor]:
        """Statistics of one step; returns (row in SCALARS order, per-layer zero counts), float32."""
        g, w, dw, low, a, t, u, zero = self._g, self._w, self._dw, self._low, self._a, self._t, self._u, self._zero
        prev_g, prev_w, prev_dw, prev_low = self.prev_g, self.prev_w, self.prev_dw, self.prev_low
        # the reference's .float(): cat(out=) casts into the float32 buffer
        torch.cat([p.reshape(-1) for p in grads], out=g)
        torch.cat([p.reshape(-1) for p in params], out=w)
        torch.abs(g, out=a)
        torch.lt(a, self.zero_thresh, out=zero)  # 0/1 masks in float32: see the module docstring
        torch.lt(a, self.low_thresh, out=low)
        layer_zero = torch.stack([part.sum() for part in zero.split(self.layer_sizes)])
        zero_count = layer_zero.sum()  # integer-valued, so exact in any order
        low_prev_count, low_count = self.low_count, low.sum()
        retained_count = torch.dot(prev_low, low)
        denom = low_prev_count.clamp_min(1)
        torch.mul(g, prev_g, out=t)
        torch.lt(t, 0, out=t)  # t: sign flips
        torch.sub(w, prev_w, out=dw)
        torch.sub(g, prev_g, out=a)
        a.mul_(prev_dw)  # a: curvature, (g - prev_g) * prev_dw as in the reference
        torch.gt(a, 0, out=u)
        minima = torch.dot(t, u)
        torch.lt(a, 0, out=u)
        maxima = torch.dot(t, u)
        flips = t.sum()
        torch.ne(dw, 0, out=u)
        moved = torch.dot(zero, u)
        if u.is_cuda:  # where() is one cheap kernel there, and a host read would synchronise
            zero_move_norm = torch.where(zero > 0, dw, self._zeros).norm()
        else:  # where(zero, dw, 0) as a product, except that 0 * inf is NaN: checked below
            torch.mul(dw, zero, out=u)
            zero_move_norm = u.norm()
            if not math.isfinite(float(zero_move_norm)):  # a non-finite move: redo it exactly (rare)
                zero_move_norm = torch.where(zero > 0, dw, self._zeros).norm()
        self.ema_g.lerp_(g, 1 - self.ema)
        self.ema_w.lerp_(w, 1 - self.ema)
        n = self.n
        row = torch.stack([
            zero_count, zero_count / n, low_prev_count, (low_prev_count - retained_count) / denom,
            retained_count / denom, flips / n, dw.norm(), g.norm(), self.ema_g.norm(), self.ema_w.norm(),
            minima, maxima, moved, zero_move_norm,
        ])
        # this step's vectors become the previous ones: swap names instead of copying
        self.prev_g, self._g = g, prev_g
        self.prev_w, self._w = w, prev_w
        self.prev_dw, self._dw = dw, prev_dw
        self.prev_low, self._low = low, prev_low
        self.low_count = low_count
        return row, layer_zero
