"""ConvMaxPool2d: a convolution followed by max pooling that computes only the outputs the pool reads.

The GumbelConv model of the research log (12.08.2024) runs a stride-1 10x10 convolution on a 32x32
image (23x23 outputs) and then ``MaxPool2d(5, stride=10, padding=2)``: 3x3 windows of 5x5 that read
rows and columns {0-2, 8-12, 18-22}, 225 of the 529 outputs. ``nn.Conv2d`` computes all 529. This
layer convolves only the input crop under each pooling window and takes its maximum, which is the
same function (MaxPool2d pads with -inf, so a window clipped at the border has the same maximum)
for about a third of the work on a CPU (notebook 05: 0.19 s instead of 0.57 s per batch of 256,
forward and backward, one thread). The gradient is the same too, except between exactly tied
maxima (``amax`` shares the gradient among ties, ``max_pool2d`` gives it to one of them).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvMaxPool2d", "pool_windows"]


def pool_windows(size: int, kernel: int, stride: int, padding: int) -> list[tuple[int, int]]:
    """The index ranges ``[start, stop)`` of the input of ``MaxPool`` (one dimension) read by each output.

    Args:
        size: input length (conv output rows or columns).
        kernel, stride, padding: of the max pool (``ceil_mode=False``, dilation 1).
    Returns:
        One ``(start, stop)`` per pooled output, clipped to ``[0, size)`` (the padding is -inf).
    """
    n_out = (size + 2 * padding - kernel) // stride + 1
    if n_out < 1:
        raise ValueError(f"pool kernel {kernel} with padding {padding} does not fit an input of size {size}")
    out = []
    for i in range(n_out):
        start = i * stride - padding
        out.append((max(start, 0), min(start + kernel, size)))
    return out


class ConvMaxPool2d(nn.Conv2d):
    """``MaxPool2d(pool_kernel, pool_stride, pool_padding)(Conv2d(...)(x))``, computing only the read outputs.

    An ``nn.Conv2d`` (same parameters, same initialisation, ``weight`` and ``bias`` as usual) whose
    forward pass convolves, for each pooling window, only the input crop under it and returns the
    crop's maximum. Only convolutions with stride 1 and no padding are supported.

    Args:
        in_channels, out_channels, kernel_size, bias: as ``nn.Conv2d`` (stride 1, padding 0).
        pool_kernel, pool_stride, pool_padding: the max pool that follows.
    Input/output:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with H' = (H - kh + 1 + 2 p - k) // s + 1
        (and W' alike), exactly the shape of the conv + MaxPool2d pair.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 pool_kernel: int, pool_stride: int, pool_padding: int = 0, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=bias)
        if pool_padding * 2 > pool_kernel:
            raise ValueError(f"pool padding {pool_padding} must be at most half the pool kernel {pool_kernel}")
        self.pool_kernel, self.pool_stride, self.pool_padding = pool_kernel, pool_stride, pool_padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kernel_size
        rows = pool_windows(x.shape[-2] - kh + 1, self.pool_kernel, self.pool_stride, self.pool_padding)
        cols = pool_windows(x.shape[-1] - kw + 1, self.pool_kernel, self.pool_stride, self.pool_padding)
        out = []
        for r0, r1 in rows:
            strip = x[..., r0:r1 + kh - 1, :]
            out.append(torch.stack([F.conv2d(strip[..., c0:c1 + kw - 1], self.weight, self.bias).amax((-2, -1))
                                    for c0, c1 in cols], -1))  # (N, out, W')
        return torch.stack(out, -2)  # (N, out, H', W')

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", pool_kernel={self.pool_kernel}, pool_stride={self.pool_stride}, "
                f"pool_padding={self.pool_padding}")
