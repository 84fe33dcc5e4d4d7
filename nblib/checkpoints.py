"""Model checkpoints without running pickled code.

Written by :func:`save_checkpoint` as ``{"state_dict": ..., "metadata": {...}}``. Read by
:func:`read_state_dict`, which also takes what other tools write: a bare state dict; a dict
holding one under ``model``, ``state_dict``, ``model_state_dict`` or ``net``; Lightning
checkpoints; ``.safetensors`` files. ``torch.load`` always runs with ``weights_only=True``,
so a file holding pickled code (a whole ``torch.save(model)``) is refused, never executed.
:func:`load_checkpoint` strips the prefixes ``module.`` (DataParallel), ``_orig_mod.``
(``torch.compile``) and ``model.`` (Lightning) when that makes the keys fit.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .atomic import write_torch_atomic
from .cli import InputError

STATE_KEYS = ("state_dict", "model", "model_state_dict", "net")
PREFIXES = ("module.", "_orig_mod.", "model.")
RESAVE = "re-save the weights with torch.save(model.state_dict(), PATH)"


class CheckpointError(InputError):
    """A checkpoint is missing, unreadable or does not fit the model."""


def save_checkpoint(path: str | Path, model: nn.Module, **metadata) -> Path:
    """Write the model's state dict and JSON-serialisable metadata, atomically (:mod:`nblib.atomic`)."""
    json.dumps(metadata)  # fail early on metadata that weights_only could not read back
    return write_torch_atomic(path, {"state_dict": model.state_dict(), "metadata": metadata})


def pickled_global(exc: Exception) -> str | None:
    """The Python object (``module.Name``) a ``torch.load(weights_only=True)`` refused, or None."""
    found = re.search(r"GLOBAL ([\w.]+)", " ".join(str(exc).split()))
    return found.group(1) if found else None


def _reason(exc: Exception, path: Path) -> str:
    """A one-line reason for a failed torch.load, naming the fix, without torch's advice paragraphs."""
    what = pickled_global(exc)
    if what:
        if what.startswith("torch.nn.") or what.rsplit(".", 1)[-1][:1].isupper():
            return (f"{path} holds a pickled model object ({what}), not a state dict, and pickled code is "
                    f"never run here; {RESAVE}")
        return f"{path} holds pickled code ({what}) that is never run here; {RESAVE}"
    detail = re.search(r"WeightsUnpickler error: ([^.]*)", " ".join(str(exc).split()))
    detail = detail.group(1) if detail else " ".join(str(exc).split())[:100]
    return (f"cannot read checkpoint {path}: corrupt or truncated file ({exc.__class__.__name__}: {detail}); "
            "pass the file the training run saved")


def _load_raw(path: Path):
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise CheckpointError(f"{path} is a safetensors file; pip install safetensors") from None
        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own SafetensorError on corrupt headers
            raise CheckpointError(f"cannot read checkpoint {path}: corrupt safetensors file "
                                  f"({' '.join(str(exc).split())[:120]})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, pickled objects, ...
        raise CheckpointError(_reason(exc, path)) from None


def read_state_dict(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, metadata) from a checkpoint file; see the module docstring for the formats."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; pass the weights file inside it")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes); pass the file the training run saved")
    raw = _load_raw(path)
    if isinstance(raw, torch.Tensor):
        raise CheckpointError(f"checkpoint {path} holds one tensor, not a state dict; {RESAVE}")
    if not isinstance(raw, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(raw).__name__}, not a state dict; {RESAVE}")
    metadata = raw.get("metadata", {}) if isinstance(raw.get("metadata"), dict) else {}
    if "pytorch-lightning_version" in raw:
        metadata = {"lightning_version": str(raw["pytorch-lightning_version"]), "epoch": raw.get("epoch"),
                    "global_step": raw.get("global_step")}
    for key in STATE_KEYS:
        if isinstance(raw.get(key), dict) and raw[key] and all(isinstance(v, torch.Tensor) for v in raw[key].values()):
            return raw[key], metadata
    if raw and all(isinstance(v, torch.Tensor) for v in raw.values()):
        return raw, {}
    if raw.get("format", "").startswith("nblib.features"):
        raise CheckpointError(f"{path} is an nblib feature file, not a checkpoint; read it with python -m nblib.analyze")
    keys = ", ".join(map(str, raw))[:160]
    raise CheckpointError(f"checkpoint {path} has no state dict (top-level keys: {keys}); "
                          f"expected weights under one of {', '.join(STATE_KEYS)}, or {RESAVE}")


def strip_prefixes(state: dict, model_keys) -> dict:
    """Remove ``module.``, ``_orig_mod.`` and ``model.`` prefixes while that makes more keys fit."""
    model_keys = set(model_keys)
    while True:
        fit = len(model_keys & set(state))
        best = None
        for prefix in PREFIXES:
            if any(k.startswith(prefix) for k in state):
                cand = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}
                if len(model_keys & set(cand)) > fit:
                    fit, best = len(model_keys & set(cand)), cand
        if best is None:
            return state
        state = best


def _short(keys: list[str], n: int = 6) -> str:
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


@dataclass
class LoadResult:
    """What :func:`load_checkpoint` did. Keys are the model's names (after prefix stripping).

    Attributes:
        metadata: the checkpoint's metadata dict.
        loaded: keys whose tensors were copied into the model.
        missing: model keys the checkpoint lacks. unexpected: checkpoint keys the model lacks.
        mismatched: key -> (checkpoint shape, model shape) for tensors of another shape.
    """

    metadata: dict
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self) -> str:
        """One line: the keys that did not fit (empty when everything fit)."""
        parts = []
        if self.mismatched:
            parts.append("shape mismatch " + _short([f"{k} {tuple(a)} vs model {tuple(b)}"
                                                     for k, (a, b) in self.mismatched.items()], 4))
        if self.missing:
            parts.append(f"missing {_short(self.missing)}")
        if self.unexpected:
            parts.append(f"unexpected {_short(self.unexpected)}")
        return "; ".join(parts)


def load_weights(path: str | Path, model: nn.Module, strict: bool = True) -> LoadResult:
    """Load a checkpoint into ``model``.

    Args:
        path: any format :func:`read_state_dict` reads.
        model: the architecture; its tensors are overwritten in place.
        strict: raise :class:`CheckpointError` listing the keys that do not fit (missing,
            unexpected, other shape). With ``strict=False`` load what fits and report the rest.
    """
    state, metadata = read_state_dict(path)
    own = model.state_dict()
    state = strip_prefixes(state, own)
    result = LoadResult(metadata)
    result.missing = [k for k in own if k not in state]
    result.unexpected = [k for k in state if k not in own]
    shared = [k for k in state if k in own]
    if not shared:
        raise CheckpointError(f"checkpoint {path} does not fit {type(model).__name__}: no tensor name in common "
                              f"(missing {_short(result.missing, 4)}; unexpected {_short(result.unexpected, 4)}); "
                              "pass the checkpoint of this architecture")
    if strict and (result.missing or result.unexpected):
        result.mismatched = _shape_mismatches(state, own)
        raise CheckpointError(_misfit(path, model, result))
    try:  # all at once first: a module may resize itself on load (custom _load_from_state_dict)
        model.load_state_dict({k: state[k] for k in shared}, strict=False)
    except RuntimeError:  # tensors of another shape
        result.mismatched = _shape_mismatches(state, own)
        if strict:
            raise CheckpointError(_misfit(path, model, result)) from None
        model.load_state_dict({k: state[k] for k in shared if k not in result.mismatched}, strict=False)
    result.loaded = [k for k in shared if k not in result.mismatched]
    return result


def _shape_mismatches(state: dict, own: dict) -> dict[str, tuple[tuple, tuple]]:
    return {k: (tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
            if k in own and tuple(v.shape) != tuple(own[k].shape)}


def _misfit(path, model: nn.Module, result: LoadResult) -> str:
    return (f"checkpoint {path} does not fit {type(model).__name__} (fix the architecture arguments, e.g. "
            "--model-kwargs '{\"num_classes\": N}', or pass --no-strict to load what fits): " + result.describe())


def load_checkpoint(path: str | Path, model: nn.Module, strict: bool = True) -> dict:
    """Load weights into ``model`` (strict by default); returns the checkpoint's metadata."""
    return load_weights(path, model, strict).metadata


__all__ = [
    "PREFIXES", "RESAVE", "STATE_KEYS", "CheckpointError", "LoadResult", "load_checkpoint", "load_weights",
    "pickled_global", "read_state_dict", "save_checkpoint", "strip_prefixes",
]
