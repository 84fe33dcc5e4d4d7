"""Models by name, for the command-line tools (``--model NAME``) and the notebooks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .cnn import SimpleCNN
from .frames import FrameResNet18
from .arc_slots import ARCEncoder, ARCSlotAutoencoder, SlotOutput, reconstruction_loss, train_slot_autoencoder
from .slot_attention import SlotAttention, SpatialBroadcastDecoder
from .mlp import MLP


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
    "ARCEncoder", "ARCSlotAutoencoder", "SlotAttention", "SlotOutput", "SpatialBroadcastDecoder",
    "reconstruction_loss", "train_slot_autoencoder",
    "MLP", "MODELS", "RESNET_LAYERS", "FrameResNet18", "ModelSpec", "SimpleCNN", "build_model"]
