"""A slot-attention autoencoder for ARC grids: CNN encoder, Slot Attention, spatial-broadcast decoder.

Every fix the dying-ReLU notes propose is a constructor argument of :class:`ARCEncoder`:
``activation`` ("relu", "leaky_relu", "gelu"), ``init`` ("default", "kaiming"), ``dropout``
and ``residual``; learning rate and training length are arguments of its training recipe,
:func:`nblib.engine.slots.train_slot_autoencoder`.

Grids are one-hot (B, 10, 30, 30), top-left aligned, with a (B, 30, 30) validity mask. The
encoder zeroes features outside the grid after every block, so padding never leaks into a
grid's features and a batch can be cropped to its grids' extent (:func:`crop_to_extent`)
without changing any valid cell in eval mode; training uses size-bucketed batches
(:func:`bucketed_batches`), which on ARC's mostly small grids cuts the work several-fold.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..deprecation import moved_from
from .slot_attention import PositionEmbedding, SlotAttention, SpatialBroadcastDecoder

ACTIVATIONS = ("relu", "leaky_relu", "gelu")
INITS = ("default", "kaiming")


def make_activation(name: str, negative_slope: float = 0.1) -> nn.Module:
    """``nn.ReLU``, ``nn.LeakyReLU(negative_slope)`` or ``nn.GELU`` by name."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "gelu":
        return nn.GELU()
    raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")


class ConvBlock(nn.Module):
    """conv 3x3 -> BatchNorm -> (+ input if residual) -> activation -> dropout.

    Input/output: (B, C_in, H, W) -> (B, C_out, H, W). ``residual`` needs C_in == C_out
    (ResNet-style: the skip is added before the activation).
    """

    def __init__(self, c_in: int, c_out: int, activation: str = "relu", negative_slope: float = 0.1,
                 dropout: float = 0.0, residual: bool = False):
        super().__init__()
        if residual and c_in != c_out:
            raise ValueError(f"a residual block needs c_in == c_out, got {c_in} -> {c_out}")
        self.residual = residual
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = make_activation(activation, negative_slope)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x))
        if self.residual:
            y = y + x
        return self.drop(self.act(y))


class ARCEncoder(nn.Module):
    """Conv + BatchNorm + activation stack, position embedding and a per-cell MLP.

    Args:
        in_channels: 10 (one-hot ARC colours).
        hidden: channels of every conv block (128 in the research log).
        depth: number of conv blocks.
        activation, negative_slope: the blocks' (and the MLP's) nonlinearity.
        init: "default" (PyTorch's) or "kaiming" (He normal, fan_out, for ReLU; BN weight 1,
            bias 0), the notes' fix #5.
        dropout: dropout probability after each block's activation (0: none).
        residual: skip connections in blocks 2..depth (the first changes the channel count).
        max_side: largest grid side (30 for ARC).
    Input/output:
        x (B, in_channels, H, W), mask (B, H, W) bool -> features (B, H*W, hidden),
        zero outside the grid. Hooks on ``blocks.0`` .. ``blocks.{depth-1}`` see the blocks'
        (B, hidden, H, W) outputs before masking; a hook on ``output`` sees the final
        (B, hidden, H, W) features (after position embedding and MLP), masked.
    """

    def __init__(self, in_channels: int = 10, hidden: int = 128, depth: int = 4, activation: str = "relu",
                 negative_slope: float = 0.1, init: str = "default", dropout: float = 0.0,
                 residual: bool = False, max_side: int = 30):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.blocks = nn.ModuleList(
            ConvBlock(in_channels if i == 0 else hidden, hidden, activation, negative_slope, dropout, residual and i > 0)
            for i in range(depth)
        )
        self.pos = PositionEmbedding(hidden, max_side)
        self.norm = nn.LayerNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), make_activation(activation, negative_slope),
                                 nn.Linear(hidden, hidden))
        self.output = nn.Identity()  # a named point for hooks: the (B, hidden, H, W) features the slots see
        if init == "kaiming":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[:, None].to(x.dtype)  # (B, 1, H, W)
        for block in self.blocks:
            x = block(x) * keep
        h, w = x.shape[-2:]
        x = x.permute(0, 2, 3, 1) + self.pos(h, w)  # (B, H, W, hidden)
        x = self.mlp(self.norm(x)) * keep.permute(0, 2, 3, 1)
        x = self.output(x.permute(0, 3, 1, 2))  # (B, hidden, H, W): what the slots attend to, for hooks
        return x.flatten(2).transpose(1, 2)  # (B, H*W, hidden)


class SlotOutput(NamedTuple):
    """What :class:`ARCSlotAutoencoder` returns (a tuple: hooks on the model see ``log_probs``)."""

    log_probs: torch.Tensor  # (B, 10, H, W) log p(colour) of the slot mixture
    slots: torch.Tensor  # (B, K, D)
    attn: torch.Tensor  # (B, K, H, W) last-iteration attention, sums to 1 over K, 0 outside the grid
    alpha: torch.Tensor  # (B, K, H, W) decoder alpha masks, sum to 1 over K


class ARCSlotAutoencoder(nn.Module):
    """ARCEncoder -> SlotAttention -> SpatialBroadcastDecoder, reconstructing the colour grid.

    Args:
        num_slots: K (7 by default), slot_dim, iters: the Slot Attention's.
        decoder_hidden: width of the decoder's per-cell MLP.
        **encoder_kwargs: :class:`ARCEncoder`'s (hidden, depth, activation, init, dropout, residual...).
    Input/output:
        onehot (B, 10, H, W), mask (B, H, W) -> :class:`SlotOutput`.
    Layers for hooks: ``encoder.blocks.{i}`` (CNN blocks), ``encoder.output`` (the features the
    slots attend to, (B, hidden, H, W)), ``slot_attention`` (slots).
    """

    def __init__(self, num_slots: int = 7, slot_dim: int = 64, iters: int = 3, decoder_hidden: int = 64,
                 decoder_layers: int = 3, decoder_position: str = "table", n_colours: int = 10, **encoder_kwargs):
        super().__init__()
        self.encoder = ARCEncoder(in_channels=n_colours, **encoder_kwargs)
        hidden = self.encoder.norm.normalized_shape[0]
        self.slot_attention = SlotAttention(num_slots, hidden, slot_dim, iters)
        self.decoder = SpatialBroadcastDecoder(slot_dim, n_colours, decoder_hidden, decoder_layers,
                                               self.encoder.pos.max_side, decoder_position)

    def forward(self, onehot: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None) -> SlotOutput:
        if onehot.dim() != 4 or mask.shape != (onehot.shape[0], *onehot.shape[2:]):
            raise ValueError(f"expected onehot (B, C, H, W) and mask (B, H, W), got {tuple(onehot.shape)} "
                             f"and {tuple(mask.shape)}")
        b, _, h, w = onehot.shape
        features = self.encoder(onehot, mask)  # (B, H*W, hidden)
        slots, attn = self.slot_attention(features, mask.reshape(b, -1), generator=generator)
        log_probs, alpha = self.decoder(slots, h, w)
        return SlotOutput(log_probs, slots, attn.view(b, -1, h, w), alpha)  # attn (B, K, H, W)


def reconstruction_loss(log_probs: torch.Tensor, colours: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean per-cell cross-entropy (nats) over valid cells only.

    Args: log_probs (B, 10, H, W), colours (B, H, W) int64, mask (B, H, W) bool.
    """
    nll = -log_probs.gather(1, colours[:, None]).squeeze(1)  # (B, H, W)
    keep = mask.to(nll.dtype)
    return (nll * keep).sum() / keep.sum().clamp_min(1)


def crop_to_extent(onehot: torch.Tensor, colours: torch.Tensor, mask: torch.Tensor):
    """Crop top-left-aligned grids to the batch's largest height and width (one host sync).

    Returns (onehot, colours, mask) cropped to (B, ., h, w).
    """
    h = int(mask.any(2).sum(1).max())  # rows holding any valid cell
    w = int(mask.any(1).sum(1).max())
    return onehot[..., :h, :w], colours[:, :h, :w], mask[:, :h, :w]


def bucketed_batches(areas: torch.Tensor, batch_size: int, pool: int = 4, generator: torch.Generator | None = None):
    """One epoch of batches of similar-sized grids, as a (n_batches, batch_size) CPU index tensor.

    Shuffle, cut into pools of ``pool * batch_size`` grids, sort each pool by area, cut the
    pools into batches and shuffle the batches: batches stay random, but a batch of small
    grids is no longer padded to the size of one large grid. The remainder of the shuffle
    (fewer than ``pool * batch_size`` grids) is left out of this epoch.

    Args:
        areas: (N,) cells per grid (CPU). generator: a CPU ``torch.Generator``.
    """
    areas = areas.cpu()
    n = areas.numel()
    if n < batch_size:
        raise ValueError(f"{n} grids cannot fill a batch of {batch_size}")
    chunk = min(pool * batch_size, n - n % batch_size)
    perm = torch.randperm(n, generator=generator)
    perm = perm[: n - n % chunk].view(-1, chunk)  # (n_pools, chunk)
    order = areas[perm].argsort(dim=1, stable=True)
    batches = perm.gather(1, order).view(-1, batch_size)  # (n_batches, batch_size)
    return batches[torch.randperm(batches.shape[0], generator=generator)]


@torch.no_grad()
def evaluate_slot_autoencoder(model: ARCSlotAutoencoder, onehot: torch.Tensor, mask: torch.Tensor,
                              layers: tuple[str, ...] = (), batch_size: int = 50, seed: int = 0):
    """Eval-mode outputs (and captured layer activations) for every grid, computed on size-sorted
    batches cropped to their extent and zero-padded back to the full canvas.

    Cropping is exact in eval mode (the encoder zeroes everything outside the grid), so this
    equals one full-canvas pass at a fraction of the cost. Slot initialisations come from a
    generator seeded with ``seed`` (reproducible).

    Args:
        onehot (N, 10, H, W), mask (N, H, W): grids on the model's device.
        layers: module names to capture (e.g. ``("encoder.blocks.0", ...)``), each (B, C, h, w).
    Returns:
        (SlotOutput of (N, ...) tensors at full size, {layer: (N, C, H, W)}); values outside a
        batch's crop are 0, so use ``mask`` for anything per cell.
    """
    from ..inspect.hooks import Inspector  # here, not at import: nblib.inspect pulls in matplotlib (issue #14)
    n, _, height, width = onehot.shape
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=onehot.device).manual_seed(seed)
    heights, widths = mask.any(2).sum(1).cpu(), mask.any(1).sum(1).cpu()
    order = (heights * widths).argsort(stable=True)
    outputs: dict[str, torch.Tensor] = {}

    def put(name: str, t: torch.Tensor, idx: torch.Tensor) -> None:
        t = F.pad(t, (0, width - t.shape[-1], 0, height - t.shape[-2]))  # (B, ., H, W)
        if name not in outputs:
            outputs[name] = torch.zeros(n, *t.shape[1:], device=t.device, dtype=t.dtype)
        outputs[name][idx] = t

    with Inspector(model, list(layers)) as inspector:
        for idx in order.split(batch_size):
            h, w = int(heights[idx].max()), int(widths[idx].max())
            idx = idx.to(onehot.device)
            out = model(onehot[idx, :, :h, :w], mask[idx, :h, :w], generator=gen)
            for name in ("log_probs", "attn", "alpha"):
                put(name, getattr(out, name), idx)
            if "slots" not in outputs:
                outputs["slots"] = torch.zeros(n, *out.slots.shape[1:], device=out.slots.device)
            outputs["slots"][idx] = out.slots
            for name in layers:
                put(f"layer:{name}", inspector.cache[name], idx)
    model.train(was_training)
    result = SlotOutput(outputs["log_probs"], outputs["slots"], outputs["attn"], outputs["alpha"])
    return result, {name: outputs[f"layer:{name}"] for name in layers}


__getattr__ = moved_from(__name__)
