"""One streamed pass over the data: dead-unit census, profile samples, and layer outputs for CKA.

Sites (where units are counted) are the model's activation modules, one site per call: a
ReLU module used five times in ``forward`` (SimpleCNN's ``self.act``) gives ``act#0``..``act#4``,
each labelled with the weight layer (Conv/Linear) that ran just before it (``act#4`` after
``fc1``). A model without activation modules (functional ``torch.relu``) is measured at its
top-level children instead. Blocks (compared by CKA) are the top-level children that hold a
Conv/Linear layer, expanded one level while there are fewer than three.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from ..correlation.cka import MinibatchCKA
from ..inspect.stats import ChannelAccumulator

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Softplus, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid)
WEIGHT_LAYERS = (nn.modules.conv._ConvNd, nn.Linear)


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return next((t for t in output if isinstance(t, torch.Tensor)), None)
    if isinstance(output, dict):
        return next((t for t in output.values() if isinstance(t, torch.Tensor)), None)
    return None


def _has_weight_layer(module: nn.Module) -> bool:
    return any(isinstance(m, WEIGHT_LAYERS) for m in module.modules())


def block_names(model: nn.Module) -> list[str]:
    """Consecutive blocks to compare: top-level children with a Conv/Linear, expanded while < 3."""
    level = [(n, m) for n, m in model.named_children() if _has_weight_layer(m)]
    for _ in range(4):
        if len(level) >= 3:
            break
        expanded = []
        for n, m in level:
            kids = [(f"{n}.{k}", c) for k, c in m.named_children() if _has_weight_layer(c)]
            expanded.extend(kids if len(kids) >= 2 else [(n, m)])
        if len(expanded) == len(level):
            break
        level = expanded
    return [n for n, _ in level]


@dataclass
class Site:
    """One place where units are counted."""

    label: str
    module: str
    call: int
    after: str | None
    kind: str
    acc: ChannelAccumulator
    first_batch_dead: int = -1

    @property
    def where(self) -> str:
        return f"{self.label} (after {self.after})" if self.after and self.after != self.label else self.label


@dataclass
class PassResult:
    """What one pass over the data measured."""

    sites: dict[str, Site]
    profile: dict[str, torch.Tensor]
    cka: torch.Tensor | None
    cka_names: list[str]
    samples: int
    profile_samples: int
    extra: dict = field(default_factory=dict)

    def census(self) -> dict[str, dict]:
        """site label -> dead (C,) bool, channels, sparsity over all data, where."""
        out = {}
        for label, s in self.sites.items():
            r = s.acc.result()
            out[label] = {"dead": r["dead"].cpu(), "channels": r["dead"].numel(), "sparsity": float(r["sparsity"].mean()),
                          "where": s.where, "after": s.after, "first_batch_dead": s.first_batch_dead, "kind": s.kind}
        return out


def batches(x: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for i in range(0, x.shape[0], batch_size):
        yield x[i:i + batch_size]


@torch.no_grad()
def stream(model: nn.Module, x: torch.Tensor, *, batch_size: int = 128, profile_n: int = 256, cka_n: int = 512,
           blocks: list[str] | None = None, eps: float = 1e-6, device=None, progress: bool = True,
           desc: str = "census", profile_budget: float = 256e6, forward=None) -> PassResult:
    """Run ``model`` over every input once, in eval mode, with hooks (removed afterwards).

    Args:
        x: (N, ...) inputs. batch_size: inputs per forward.
        profile_n: keep the site activations of the first ``profile_n`` inputs (fewer if their size
            passes ``profile_budget`` bytes) for the relative-to-init feature report.
        cka_n: inputs whose block outputs feed the minibatch CKA (0: none).
        blocks: module names for the CKA (default :func:`block_names`).
        forward: callable(model, batch) used instead of ``model(batch)``.
    """
    from tqdm.auto import tqdm

    device = device or next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    modules = dict(model.named_modules())
    act_names = [n for n, m in modules.items() if n and isinstance(m, ACTIVATIONS)]
    fallback = not act_names
    if fallback:
        act_names = [n for n, _ in model.named_children()]
    blocks = block_names(model) if blocks is None else blocks
    state = {"last_weight": None, "calls": {}, "batch": 0, "blocks": {}, "keep": 0}
    sites: dict[tuple[str, int], Site] = {}
    profile: dict[tuple[str, int], list[torch.Tensor]] = {}

    def weight_hook(name):
        def hook(module, args, output):
            state["last_weight"] = name
        return hook

    def site_hook(name):
        def hook(module, args, output):
            t = _first_tensor(output)
            k = state["calls"].get(name, 0)
            state["calls"][name] = k + 1
            if t is None or t.dim() < 2 or t.shape[0] != state["n"]:
                return
            key = (name, k)
            site = sites.get(key)
            if site is None:
                after = name if fallback else state["last_weight"]
                site = sites[key] = Site(name, name, k, after, type(module).__name__, ChannelAccumulator(eps))
            site.acc.update(t)
            if state["batch"] == 0:
                site.first_batch_dead = int((t.detach().abs() > eps).flatten(2).any(-1).any(0).logical_not().sum()
                                            if t.dim() > 2 else (t.detach().abs() > eps).any(0).logical_not().sum())
            if state["keep"] > 0:
                profile.setdefault(key, []).append(t[: state["keep"]].detach().float().cpu())
        return hook

    def block_hook(name):
        def hook(module, args, output):
            t = _first_tensor(output)
            if t is not None and name not in state["blocks"] and t.dim() >= 2 and t.shape[0] == state["n"]:
                state["blocks"][name] = t.detach()
        return hook

    handles = []
    for name in act_names:
        handles.append(modules[name].register_forward_hook(site_hook(name)))
    if not fallback:
        for name, m in modules.items():
            if isinstance(m, WEIGHT_LAYERS):
                handles.append(m.register_forward_hook(weight_hook(name)))
    for name in blocks if cka_n else []:
        handles.append(modules[name].register_forward_hook(block_hook(name)))
    cka = MinibatchCKA() if cka_n and len(blocks) >= 2 else None
    seen = kept = cka_seen = 0
    total = x.shape[0]
    try:
        bar = tqdm(total=total, desc=desc, unit="input", disable=not progress, leave=False)
        for b in batches(x, batch_size):
            n = b.shape[0]
            state.update(n=n, calls={}, last_weight=None, blocks={})
            keep = state["keep"] = max(0, min(n, profile_n - kept))
            b = b.to(device)
            forward(model, b) if forward is not None else model(b)
            if state["batch"] == 0 and keep:  # shrink the profile to the memory budget
                per_input = sum(v[0][:1].numel() * 4 for v in profile.values())
                profile_n = min(profile_n, max(8, int(profile_budget // max(per_input, 1))))
                for key in profile:
                    profile[key][0] = profile[key][0][:profile_n]
                keep = min(keep, profile_n)
            kept += keep
            if cka is not None and cka_seen < cka_n and n >= 4:
                outs = {k: state["blocks"][k][: cka_n - cka_seen] for k in blocks if k in state["blocks"]}
                if len(outs) == len(blocks) and next(iter(outs.values())).shape[0] >= 4:
                    cka.update(outs)
                    cka_seen += next(iter(outs.values())).shape[0]
            state["blocks"] = {}
            state["batch"] += 1
            seen += n
            bar.update(n)
        bar.close()
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    counts: dict[str, int] = {}
    for name, _ in sites:
        counts[name] = counts.get(name, 0) + 1
    labelled: dict[str, Site] = {}
    prof: dict[str, torch.Tensor] = {}
    for (name, k), site in sites.items():
        label = name if counts[name] == 1 else f"{name}#{k}"
        site.label = label
        labelled[label] = site
        if (name, k) in profile:
            prof[label] = torch.cat(profile[(name, k)])[:kept]
    result = cka.result() if cka is not None and cka.batches else None
    return PassResult(labelled, prof, result, list(blocks) if result is not None else [], seen, kept,
                      {"fallback_sites": fallback, "cka_samples": cka_seen})


__all__ = ["ACTIVATIONS", "PassResult", "Site", "WEIGHT_LAYERS", "batches", "block_names", "stream"]
