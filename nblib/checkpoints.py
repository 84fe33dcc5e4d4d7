"""Model checkpoints without pickle: ``{"state_dict": ..., "metadata": {...}}`` read with ``weights_only=True``."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or does not fit the model."""


def save_checkpoint(path: str | Path, model: nn.Module, **metadata) -> Path:
    """Write the model's state dict and JSON-serialisable metadata, atomically."""
    path = Path(path)
    json.dumps(metadata)  # fail early on metadata that weights_only could not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"state_dict": model.state_dict(), "metadata": metadata}, tmp)
    tmp.replace(path)
    return path


def _reason(exc: Exception) -> str:
    """A one-line reason for a failed torch.load, without torch's multi-paragraph advice."""
    text = " ".join(str(exc).split())
    if "Weights only load failed" in text or "Unsupported global" in text:
        return "not a plain tensor file (corrupt, or it holds pickled objects that weights_only=True refuses to run)"
    return f"corrupt or truncated file ({exc.__class__.__name__}: {text[:120]})"


def read_state_dict(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, metadata) from a checkpoint file.

    Accepts files from :func:`save_checkpoint`, a bare state dict, or a dict with the
    state dict under ``"model"`` / ``"state_dict"`` / ``"model_state_dict"``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, pickled objects, ...
        raise CheckpointError(f"cannot read checkpoint {path}: {_reason(exc)}") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(raw).__name__}, not a state dict")
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(raw.get(key), dict):
            return raw[key], raw.get("metadata", {}) or {}
    if raw and all(isinstance(v, torch.Tensor) for v in raw.values()):
        return raw, {}
    raise CheckpointError(f"checkpoint {path} has no state dict (keys: {', '.join(map(str, raw))[:200]})")


def load_checkpoint(path: str | Path, model: nn.Module) -> dict:
    """Load weights into ``model`` (strict); returns the checkpoint's metadata."""
    state, metadata = read_state_dict(path)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # tensor shapes differ
        detail = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"checkpoint {path} does not fit {type(model).__name__}: {detail}") from None
    if result.missing_keys or result.unexpected_keys:
        def short(keys):
            return ", ".join(keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else "")
        raise CheckpointError(
            f"checkpoint {path} does not fit {type(model).__name__}: "
            f"missing [{short(result.missing_keys)}], unexpected [{short(result.unexpected_keys)}]"
        )
    return metadata
