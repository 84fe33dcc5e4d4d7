"""Capture activations (and gradients) of any ``nn.Module`` by dotted name.

    with Inspector(model, ["conv1", "layer*", nn.ReLU]) as insp:
        model(x)
    insp.cache["layer1"]            # (N, C, H, W), cloned, on the model's device

    out, cache = run_with_cache(model, x, names_filter="layer*")

Names come from ``model.named_modules()``. Hooks are removed on exit, also when the
forward pass, a hook or the registration itself raises. Captured outputs are cloned,
so a later in-place op (ResNet's ``ReLU(inplace=True)`` after ``bn1``) cannot change
what was recorded. Gradients are captured with tensor hooks on the outputs, which stay
correct under in-place ops where module backward hooks fail.
"""
from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from .cache import ActivationCache

NamesFilter = None | str | type | Callable[[str], bool] | Iterable[str | type]


def resolve_names(model: nn.Module, names_filter: NamesFilter = None) -> list[str]:
    """Dotted module names selected by ``names_filter``, in the model's order.

    Args:
        names_filter: None (every submodule, each once), an exact name, a glob ("layer*",
            "*.relu"), an ``nn.Module`` subclass (every instance), a predicate on names, or a
            list of these. A module registered under two names (``self.a = self.b = relu``)
            can be asked for by either name.
    Raises:
        KeyError: an exact name that is not in the model, or a glob that matches nothing,
            with the closest available names.
    """
    if names_filter is None:
        return [n for n, _ in model.named_modules() if n]  # "" is the model itself
    modules = dict(model.named_modules(remove_duplicate=False))  # aliases too
    names = [n for n in modules if n]
    if callable(names_filter) and not isinstance(names_filter, type):
        return [n for n in names if names_filter(n)]
    items = [names_filter] if isinstance(names_filter, (str, type)) else list(names_filter)
    chosen: set[str] = set()
    for item in items:
        if isinstance(item, type):
            chosen.update(n for n in names if isinstance(modules[n], item))
        elif any(ch in item for ch in "*?["):
            hits = fnmatch.filter(names, item)
            if not hits:
                raise KeyError(f"pattern {item!r} matches no module{_suggest(item, names)}; "
                               f"available: {', '.join(names[:40])}" + (" ..." if len(names) > 40 else ""))
            chosen.update(hits)
        elif item in modules and item:
            chosen.add(item)
        else:
            raise KeyError(f"unknown layer {item!r}{_suggest(item, names)}; available: {', '.join(names)}")
    return [n for n in names if n in chosen]


def _suggest(item: str, names: list[str]) -> str:
    """" (did you mean a, b?)" for the names closest to ``item`` (wildcards ignored), or ""."""
    plain = item.translate(str.maketrans("", "", "*?[]"))
    close = difflib.get_close_matches(item, names, n=5) or difflib.get_close_matches(plain, names, n=5, cutoff=0.5)
    folded = fnmatch.filter([n.lower() for n in names], item.lower())  # a case slip
    close = list(dict.fromkeys([n for n in names if n.lower() in folded][:5] + close))[:5]
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _first_tensor(output):
    """The tensor a module produced: itself, or the first tensor of a tuple/list/dict."""
    if isinstance(output, torch.Tensor):
        return output
    values = output.values() if isinstance(output, Mapping) else output if isinstance(output, (tuple, list)) else ()
    return next((v for v in values if isinstance(v, torch.Tensor)), None)


def _as_index(sel, size: int, what: str):
    if sel is None:
        return slice(None)
    idx = [sel] if isinstance(sel, int) else list(sel)
    bad = [i for i in idx if not -size <= i < size]
    if bad:
        raise IndexError(f"{what} {bad} out of range for size {size}")
    return idx


class Inspector:
    """Context manager that records module outputs (and optionally their gradients).

    Args:
        model: any ``nn.Module``.
        names: which modules, see :func:`resolve_names` (default: all submodules).
        backward: also record d(loss)/d(output) into ``.grads`` when ``backward()`` runs.
        store: "device" (clone in place), "cpu" (copy to host memory) or "disk"
            (one ``.pt`` file per module per forward pass under ``save_dir``).
        save_dir: folder for ``store="disk"``.
        accumulate: keep every forward pass (concatenated on read) instead of the last.
        seq_len: frames per sequence for models that run a 2-D backbone on (B*T, ...)
            frames; with it, ``batch_idx``/``timestep`` select sequences and frames.
        batch_idx: keep only these samples (int or list); sequences if ``seq_len``.
        timestep: keep only these frames (int or list); needs ``seq_len``.
        batch_size: B, the number of sequences per forward pass. By default read from the
            input: (B, T, ...) when it is 3-D or 5-D with dim 1 == T, else (B*T, ...) frames.
            See :meth:`select` for how each layer's output is read.

    A module called several times in one forward pass is recorded as ``name``,
    ``name:1``, ``name:2``... A module registered under several names is hooked once and
    recorded under each name that was asked for. Outputs that are tuples (``nn.LSTM``,
    ``nn.MultiheadAttention``) are recorded by their first tensor.

    Only modules can be hooked: a functional op inside ``forward`` (``torch.relu(x)``,
    ``F.gelu``, ``x + y``) has no name. To record it, make it a module
    (``self.act = nn.ReLU()`` and call ``self.act(x)``), or wrap it in ``nn.Identity``:
    ``self.after_relu = nn.Identity()`` and ``x = self.after_relu(torch.relu(x))``.
    """

    def __init__(
        self,
        model: nn.Module,
        names: NamesFilter = None,
        *,
        backward: bool = False,
        store: str = "device",
        save_dir: str | Path | None = None,
        accumulate: bool = False,
        seq_len: int | None = None,
        batch_idx: int | Iterable[int] | None = None,
        timestep: int | Iterable[int] | None = None,
        batch_size: int | None = None,
    ):
        if store not in {"device", "cpu", "disk"}:
            raise ValueError(f"store must be 'device', 'cpu' or 'disk', got {store!r}")
        if store == "disk" and save_dir is None:
            raise ValueError("store='disk' needs save_dir")
        if timestep is not None and seq_len is None:
            raise ValueError("timestep selection needs seq_len (frames per sequence)")
        self.model, self.backward, self.store = model, backward, store
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.accumulate, self.seq_len = accumulate, seq_len
        self.batch_idx, self.timestep, self.batch_size = batch_idx, timestep, batch_size
        self._batch: int | None = batch_size
        self.names = resolve_names(model, names)  # raises before any hook exists
        self.cache, self.grads = ActivationCache(), ActivationCache()
        self.cache.grads = self.grads
        self._handles: list = []
        self._calls: dict[str, int] = {}
        self._forward = -1

    # -- hook management -------------------------------------------------------------
    def attach(self) -> "Inspector":
        if self._handles:
            raise RuntimeError("Inspector is already attached")
        modules = dict(self.model.named_modules(remove_duplicate=False))
        groups: dict[int, list[str]] = {}  # one hook per module, however many names it has
        for name in self.names:
            groups.setdefault(id(modules[name]), []).append(name)
        try:
            self._handles.append(self.model.register_forward_pre_hook(self._new_forward))
            for names in groups.values():
                self._handles.append(modules[names[0]].register_forward_hook(self._make_hook(names)))
        except BaseException:
            self.detach()
            raise
        return self

    def detach(self) -> None:
        """Remove every hook this inspector registered (idempotent)."""
        while self._handles:
            self._handles.pop().remove()

    def __enter__(self) -> "Inspector":
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def _sequences_in(self, x) -> int | None:
        """B, the number of sequences in the model's input: (B, T, ...) for 3-D and 5-D+ inputs
        whose dim 1 is T, else (B*T, ...) frames."""
        if not self.seq_len or x is None or x.dim() == 0:
            return None
        if x.dim() in (3, 5, 6) and x.shape[1] == self.seq_len:
            return x.shape[0]
        return x.shape[0] // self.seq_len if x.shape[0] % self.seq_len == 0 else None

    # -- capture -----------------------------------------------------------------------
    def _new_forward(self, module, args) -> None:
        self._forward += 1
        self._batch = self.batch_size if self.batch_size is not None else self._sequences_in(_first_tensor(args))
        self._calls.clear()
        if not self.accumulate:
            self.cache.clear()
            self.grads.clear()

    def select(self, t: torch.Tensor) -> torch.Tensor:
        """Apply the sample / sequence / frame selection to one captured tensor.

        With ``seq_len`` T and B sequences in the input, a layer output is read as
        (B*T, ...) frames when its first dim is B*T, as (B, T, F...) when it has 3+ dims and
        the first two are (B, T), as (T, B, F...) when they are (T, B) (``nn.LSTM`` without
        ``batch_first``), and else as (B, ...) per-sequence values (only ``batch_idx``
        applies) when its first dim is B: a (B, classes) head stays per sequence even when
        classes == T. Selected sequences and frames come back as (B' * T', ...).
        Other shapes are kept whole.
        """
        if t.dim() == 0:
            return t
        b, steps = self._batch, self.seq_len
        if steps and b is None and t.shape[0] % steps == 0:  # input of unknown layout: assume frames
            b = t.shape[0] // steps
        if steps and b:
            if t.shape[0] == b * steps:
                return self._pick(t.view(b, steps, *t.shape[1:]))
            if t.dim() >= 3 and tuple(t.shape[:2]) == (b, steps):
                return self._pick(t)
            if t.dim() >= 3 and tuple(t.shape[:2]) == (steps, b):
                return self._pick(t.transpose(0, 1))
            if t.shape[0] == b:
                return t if self.batch_idx is None else t[_as_index(self.batch_idx, b, "batch_idx")]
            return t
        if self.batch_idx is not None:
            return t[_as_index(self.batch_idx, t.shape[0], "batch_idx")]
        return t

    def _pick(self, seq: torch.Tensor) -> torch.Tensor:
        """(B, T, ...) -> the selected (B' * T', ...)."""
        seq = seq[_as_index(self.batch_idx, seq.shape[0], "batch_idx")]
        seq = seq[:, _as_index(self.timestep, seq.shape[1], "timestep")]
        return seq.reshape(-1, *seq.shape[2:])

    def _keep(self, t: torch.Tensor, name: str, kind: str):
        t = self.select(t.detach())
        if self.store == "cpu":
            return t.to("cpu", copy=True)
        if self.store == "disk":
            folder = self.save_dir / kind
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}__{self._forward:05d}.pt"
            torch.save(t.cpu().contiguous(), path)
            return path
        return t.clone()

    def _make_hook(self, names: list[str]):
        def hook(module, args, output):
            n = self._calls.get(names[0], 0)
            self._calls[names[0]] = n + 1
            tensor = _first_tensor(output)
            if tensor is None:
                return
            for name in names:
                key = name if n == 0 else f"{name}:{n}"
                self.cache._add(key, self._keep(tensor, key, "activations"), self.accumulate)
                if self.backward and tensor.requires_grad:
                    tensor.register_hook(self._grad_hook(key))

        return hook

    def _grad_hook(self, key: str):
        def hook(grad):
            self.grads._add(key, self._keep(grad, key, "grads"), self.accumulate)

        return hook


def run_with_cache(
    model: nn.Module,
    *inputs,
    names_filter: NamesFilter = None,
    backward: bool = False,
    loss_fn: Callable | None = None,
    **inspector_kwargs,
):
    """Run ``model(*inputs)`` once and return ``(output, cache)``.

    Without ``backward`` the pass runs under ``torch.no_grad()``. With it, ``loss_fn(output)``
    (default ``output.sum()``) is back-propagated and ``cache.grads`` holds the gradients
    of the loss with respect to each recorded output. The model's train/eval mode is left
    as it is. All hooks are gone when this returns, also after an error.
    """
    inspector = Inspector(model, names_filter, backward=backward, **inspector_kwargs)
    try:
        inspector.attach()
        with torch.set_grad_enabled(backward):
            out = model(*inputs)
        if backward:
            loss = loss_fn(out) if loss_fn is not None else _first_tensor(out).sum()
            loss.backward()
    finally:
        inspector.detach()
    return out, inspector.cache


def count_hooks(model: nn.Module) -> int:
    """Forward, pre-forward and backward hooks still registered anywhere in ``model``."""
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules()
    )


def leaf_names(model: nn.Module) -> list[str]:
    """Dotted names of modules with no children (the layers that compute)."""
    return [n for n, m in model.named_modules() if n and next(m.children(), None) is None]

