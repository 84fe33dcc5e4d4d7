"""Architectures: every model nblib builds, and models by name for the command-line tools (``--model NAME``).

Their training recipes are in :mod:`nblib.engine`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..deprecation import moved_from
from .airbench import make_airbench94_net
from .arc_slots import ARCEncoder, ARCSlotAutoencoder, SlotOutput, reconstruction_loss
from .cnn import SimpleCNN
from .csvae import CSVAE, CSVAEOutput, KLSchedule, LatentLayer, csvae_loss
from .frames import FrameResNet18
from .interpretable import KINDS as INTERPRETABLE_KINDS, backbone, gumbel_layers, make_backbone, make_model, with_augmax
from .mlp import MLP
from .multiscale import BRANCHES as MULTISCALE_BRANCHES, make_multiscale_model, representation_layers
from .slot_attention import SlotAttention, SpatialBroadcastDecoder


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[[], nn.Module]
    description: str
    default_layers: tuple[str, ...]
    sequence_input: bool  # takes (B, T, C, H, W) videos


RESNET_LAYERS = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")

#: name -> spec. Notebooks register their own models here.
MODELS: dict[str, ModelSpec] = {
    "resnet18": ModelSpec(
        lambda: FrameResNet18(num_classes=3),
        "torchvision ResNet-18 applied per frame, 3 outputs (dSprites shape)",
        RESNET_LAYERS,
        sequence_input=True,
    ),
}


def build_model(name: str) -> nn.Module:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name].build()


__all__ = [
    "ARCEncoder", "ARCSlotAutoencoder", "FrameResNet18", "INTERPRETABLE_KINDS", "MLP", "MODELS", "MULTISCALE_BRANCHES", "ModelSpec",
    "RESNET_LAYERS", "SimpleCNN", "SlotAttention", "SlotOutput", "SpatialBroadcastDecoder", "backbone",
    "build_model", "gumbel_layers", "make_airbench94_net", "make_backbone", "make_model", "make_multiscale_model",
    "reconstruction_loss", "representation_layers", "with_augmax", "CSVAE", "CSVAEOutput", "KLSchedule", "LatentLayer",
    "csvae_loss",
]

__getattr__ = moved_from(__name__)
