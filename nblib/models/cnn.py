"""A plain CIFAR-10 CNN (the Keras example's shape), the model of notebook 04."""
from __future__ import annotations

import torch
from torch import nn


class SimpleCNN(nn.Module):
    """conv32-conv32-pool-conv64-conv64-pool-fc256-fc10 with ReLUs and no normalisation.

    No BatchNorm on purpose: the gradient dynamics (zero gradients from inactive ReLUs,
    sign flips) are those of the plain network the optimization-insight study used.

    Args:
        num_classes: outputs.
        width: channels of the first block (the second block has twice as many).
    Input/output:
        (N, 3, 32, 32) -> (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 3, padding=1)
        self.conv2 = nn.Conv2d(w, w, 3, padding=1)
        self.conv3 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.conv4 = nn.Conv2d(2 * w, 2 * w, 3, padding=1)
        self.fc1 = nn.Linear(2 * w * 8 * 8, 256)
        self.fc2 = nn.Linear(256, num_classes)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.conv2(self.act(self.conv1(x)))))  # (N, w, 16, 16)
        x = self.pool(self.act(self.conv4(self.act(self.conv3(x)))))  # (N, 2w, 8, 8)
        return self.fc2(self.act(self.fc1(x.flatten(1))))  # (N, num_classes)
