"""Training loop for an IncrementalNeuralHashing head over a (trainable or frozen) backbone."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..layers.hashing.layer import IncrementalNeuralHashing
from .callbacks import LossMeter, Progress
from .learner import Callback, Learner


class _PruneAndRecord(Callback):
    """After each epoch: prune the dead slots and record the epoch (mean loss, slots, added, pruned)."""

    order = 20  # after the LossMeter has read the epoch's loss

    def __init__(self, history: list):
        self.history = history

    def before_epoch(self, learner):
        learner.added = 0

    def after_epoch(self, learner):
        head = learner.model
        pruned = head.prune_dead()
        self.history.append({"epoch": learner.epoch + 1, "loss": learner.epoch_loss[-1], "slots": head.n_slots,
                             "added": learner.added, "pruned": int(pruned.sum())})


def fit_hashing(
    head: IncrementalNeuralHashing,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    epochs: int,
    batch_size: int = 128,
    encode: Callable[[torch.Tensor], torch.Tensor] | None = None,
    backbone_optimizer: torch.optim.Optimizer | None = None,
    seed: int = 0,
    progress: bool = True,
    desc: str = "hashing",
) -> list[dict]:
    """Train the head (and optionally a backbone) with cross-entropy on its logits.

    Each step: ``z = encode(x)``; :meth:`IncrementalNeuralHashing.learn` grows the head and
    returns logits with gradient; one backward pass; the head's current SGD (replaced on growth)
    and the backbone's optimiser step. After each epoch, dead slots are pruned. The loss stays in
    a device tensor (read once per epoch); the only per-step host sync is the growth decision,
    since the new weight's shape depends on it.

    Args:
        head: the layer (trained in place).
        inputs: (N, ...) inputs on the head's device (representations, or images for ``encode``).
        labels: (N,) long.
        epochs: passes over the data.
        batch_size: examples per step (the batch thresholds are computed on it).
        encode: input batch -> (B, D) or (B, A, D) representations (None: inputs already are).
        backbone_optimizer: steps the encoder's parameters (None: the encoder is frozen).
        seed: shuffling seed.
    Returns:
        one record per epoch: mean loss, slots, slots added and pruned, batches.
    """
    if inputs.shape[0] != labels.shape[0]:
        raise ValueError(f"{inputs.shape[0]} inputs but {labels.shape[0]} labels")
    if inputs.shape[0] < batch_size:
        raise ValueError(f"batch_size {batch_size} exceeds the {inputs.shape[0]} examples; lower it")
    gen = torch.Generator(device=inputs.device).manual_seed(seed)
    steps = inputs.shape[0] // batch_size

    def epoch_batches(learner: Learner):
        order = torch.randperm(inputs.shape[0], device=inputs.device, generator=gen)
        for i in range(steps):
            idx = order[i * batch_size : (i + 1) * batch_size]
            yield inputs[idx], labels[idx]

    def forward(learner: Learner, batch):
        x, y = batch
        z = x if encode is None else encode(x)
        before = head.n_slots
        m = head.learn(z, y)  # grows the head (and replaces its optimiser) when the batch asks for it
        learner.added += head.n_slots - before
        return m.logits, F.cross_entropy(m.logits, y)

    def optimisers():  # the head's optimiser of this step: learn() may have replaced it
        return [head.optimizer] + ([backbone_optimizer] if backbone_optimizer is not None else [])

    history = []
    learner = Learner(head, optimisers, epoch_batches, forward=forward,
                      callbacks=[LossMeter(weight=lambda l: 1, count=lambda l: 1), _PruneAndRecord(history),
                                 Progress(desc, enabled=progress, leave=True)])
    learner.added = 0
    learner.fit(epochs)
    head.eval()
    return history


def fit_linear_probe(
    inputs: torch.Tensor, labels: torch.Tensor, n_classes: int, epochs: int, batch_size: int = 128,
    lr: float = 1e-3, seed: int = 0, probe: torch.nn.Linear | None = None,
    replay: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.nn.Linear:
    """Train (or keep training: fine-tune) a linear classifier on fixed representations (Adam, CE).

    Args:
        inputs: (N, D) representations; labels: (N,) long.
        probe: an existing probe to continue training (continual-learning baseline).
        replay: (R, D) and (R,) examples from a memory of past tasks (experience replay,
            Chaudhry et al. 2019): every step adds ``batch_size`` of them, drawn uniformly with
            replacement, to the batch of ``inputs``. None or empty: plain fine-tuning.
    Returns:
        the trained ``nn.Linear(D, n_classes)``.
    """
    gen = torch.Generator(device=inputs.device).manual_seed(seed)
    if probe is None:
        torch.manual_seed(seed)
        probe = torch.nn.Linear(inputs.shape[1], n_classes).to(inputs.device)
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    steps = max(inputs.shape[0] // batch_size, 1)
    memory = replay is not None and replay[0].shape[0] > 0

    def epoch_batches(learner: Learner):
        order = torch.randperm(inputs.shape[0], device=inputs.device, generator=gen)
        for i in range(steps):
            idx = order[i * batch_size : (i + 1) * batch_size]
            x, y = inputs[idx], labels[idx]
            if memory:
                r = torch.randint(replay[0].shape[0], (batch_size,), device=inputs.device, generator=gen)
                x, y = torch.cat([x, replay[0][r]]), torch.cat([y, replay[1][r]])
            yield x, y

    Learner(probe, opt, epoch_batches, F.cross_entropy).fit(epochs)
    return probe
