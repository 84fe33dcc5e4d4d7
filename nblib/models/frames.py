"""2-D backbones applied frame by frame to sequences (B, T, C, H, W)."""
from __future__ import annotations

import torch
from torchvision.models.resnet import BasicBlock, ResNet


class FrameResNet18(ResNet):
    """torchvision's ResNet-18, applied to every frame of a (B, T, C, H, W) sequence.

    Module names are torchvision's (``conv1``, ``bn1``, ``relu``, ``maxpool``,
    ``layer1``..``layer4``, ``fc``), so hooks see the (B*T, C, H, W) frame batch:
    use ``Inspector(..., seq_len=T)`` to pick sequences and timesteps. Grayscale input
    is repeated to 3 channels. Random init (no weights can be downloaded here).

    Args:
        num_classes: outputs per frame.
    Input/output:
        (B, T, C, H, W) -> (B, T, num_classes); a (N, C, H, W) batch -> (N, num_classes).
    """

    def __init__(self, num_classes: int = 3):
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-3]  # (B, T) or (N,)
        frames = x.reshape(-1, *x.shape[-3:])  # (B*T, C, H, W)
        if frames.shape[1] == 1:
            frames = frames.expand(-1, 3, -1, -1)
        return super().forward(frames).view(*lead, -1)  # (B, T, num_classes)
