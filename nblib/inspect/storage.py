"""Save and load captured features without pickle.

``.pt`` files hold ``{"format", "activations": {name: tensor}, "metadata": {...}}`` and are
read back with ``torch.load(weights_only=True)``; ``.npz`` files hold one array per layer
plus the metadata as a JSON string (``allow_pickle=False``). Metadata must be
JSON-serialisable (checkpoint path, layer names, batch info, ...).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_path, write_torch_atomic

FORMAT = "nblib.features/1"


@dataclass
class FeatureFile:
    activations: dict[str, torch.Tensor]
    metadata: dict = field(default_factory=dict)


def save_features(path: str | Path, activations: Mapping[str, torch.Tensor], metadata: dict | None = None) -> Path:
    """Write activations and metadata to ``path`` (``.pt`` or ``.npz``), atomically (:mod:`nblib.atomic`)."""
    path = Path(path)
    metadata = dict(metadata or {})
    try:
        meta_json = json.dumps(metadata)
    except TypeError as exc:
        raise TypeError(f"metadata must be JSON-serialisable: {exc}") from None
    if path.suffix not in (".pt", ".npz"):
        raise ValueError(f"unsupported feature file extension {path.suffix!r}: use .pt or .npz")
    acts = {name: t.detach().cpu().contiguous() for name, t in activations.items()}
    if path.suffix == ".pt":
        return write_torch_atomic(path, {"format": FORMAT, "activations": acts, "metadata": json.loads(meta_json)})
    arrays = {f"act/{name}": t.numpy() for name, t in acts.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:  # a file object: np.savez(path) would append ".npz"
        np.savez(f, __format__=np.array(FORMAT), __metadata__=np.array(meta_json), **arrays)
    return path


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else ""


def load_features(path: str | Path) -> FeatureFile:
    """Read a file written by :func:`save_features`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: unreadable, corrupt, or not an nblib feature file.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass the features_*.pt file inside it")
    if not path.is_file():
        raise FileNotFoundError(f"feature file not found: {path}; write one with python -m nblib.inspect")
    if path.stat().st_size == 0:
        raise ValueError(f"feature file {path} is empty (0 bytes); extract it again with python -m nblib.inspect")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                fmt = str(z["__format__"])
                meta = json.loads(str(z["__metadata__"]))
                acts = {k[4:]: torch.from_numpy(z[k].copy()) for k in z.files if k.startswith("act/")}
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(raw, dict):
                raise ValueError("top level is not a dict")
            fmt, meta, acts = raw.get("format"), raw.get("metadata", {}), raw.get("activations")
    except (ValueError, KeyError, OSError, RuntimeError, EOFError) as exc:
        raise ValueError(f"cannot read feature file {path}: {exc.__class__.__name__}: {_first_line(exc)}; "
                         "extract it again with python -m nblib.inspect") from None
    except Exception as exc:  # torch/pickle raise assorted types on corrupt input
        raise ValueError(f"cannot read feature file {path}: {exc.__class__.__name__}; "
                         "extract it again with python -m nblib.inspect") from None
    if fmt != FORMAT or not isinstance(acts, dict):
        raise ValueError(f"{path} is not an nblib feature file (format {fmt!r}, expected {FORMAT!r}); "
                         "pass a file written by python -m nblib.inspect or nblib.inspect.save_features")
    return FeatureFile(acts, meta)


__all__ = ["FORMAT", "FeatureFile", "load_features", "save_features"]
