"""Optimization insight: what the gradients and weights of every parameter do, step by step.

A PyTorch port of the Keras "optimization insight" callback. Attached to a model and its
optimizer (an optimizer step post-hook), after every ``optimizer.step()`` it reads all
gradients and weights as one flat vector and records, entirely on the device:

- zero gradients: components with |g| < ``zero_thresh`` (1e-7), per layer and in total;
- the low state: components with |g| < ``low_thresh`` (1e-5) at the previous step, and the
  fractions of them *released* (|g| grew to >= low_thresh) and *retained* this step;
- sign flips: the fraction of components with g_t * g_{t-1} < 0;
- the norm of the weight change w_t - w_{t-1}, and norms of moving averages (EMA) of the
  gradients and weights;
- local minimum / maximum crossings along each coordinate: a component whose gradient
  changed sign between two evaluations crossed a minimum when the gradient change and the
  weight move between those evaluations have the same sign (secant curvature dg/dw > 0),
  a maximum when they have opposite signs;
- zero-gradient weights: how many components with |g| < zero_thresh still moved, and the
  norm of their move (momentum and weight decay move them without a gradient);
- a gradient-sign record for the heatmap: at chosen steps, a code per (subsampled)
  gradient index: 0 |g| > low_thresh, 1 small negative, 2 small positive, 3 exactly zero.

Per-step values go into preallocated device buffers; every ``pull_every`` steps they are
copied to the host once (no per-step synchronisation), appended to the history, written
to JSON (atomically) and to TensorBoard. Memory: O(parameters). Compiled (the CUDA
default): previous gradient, weights and weight move, two moving averages, the low-state
mask, and the current flat copies while a step runs (about 7 floats per parameter). Eager
(the CPU default): 14 preallocated float32 vectors, so that a step allocates nothing
(:mod:`nblib.dynamics.stepstats` says why).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..atomic import write_json_atomic
from ..scalars import ScalarLogger
from .stepstats import SCALARS, EagerStepStatistics, step_statistics

# Entries that need one (two) earlier steps: NaN at the first (second) step.
_NEEDS_ONE = [SCALARS.index(k) for k in ("low_grads", "released_fraction", "retained_fraction", "sign_flip_fraction",
                                         "weight_diff_norm", "zero_grad_moved", "zero_grad_move_norm")]
_NEEDS_TWO = [SCALARS.index(k) for k in ("minima_crossed", "maxima_crossed")]


class GradientTracker:
    """Records gradient dynamics of ``model`` at every step of ``optimizer``.

    Args:
        model: the network (its trainable parameters are tracked, grouped by module name).
        optimizer: the optimizer whose ``step()`` triggers a record (via a step post-hook).
        zero_thresh, low_thresh: the |g| thresholds of "zero" and "low state" (1e-7, 1e-5).
        ema: decay of the moving averages of gradients and weights.
        pull_every: steps between host copies of the per-step buffers.
        sign_indices: gradient components kept in the sign record (evenly spaced over the
            flat parameter vector, so every layer is represented in proportion to its size).
        json_path: write the history there (atomically) at every pull.
        log_dir: TensorBoard folder for the scalars.
        compile: fuse the per-step statistics with ``torch.compile`` (default: on CUDA only;
            the first step then pays a one-off compilation of some seconds); a string is
            passed as torch.compile's ``mode``. Without it the statistics run eagerly on
            preallocated buffers (:class:`~nblib.dynamics.stepstats.EagerStepStatistics`).
        cpu_threads: on the CPU, torch threads for the statistics (restored afterwards; None: leave
            torch's setting). Each of its ~30 passes is a fraction of a millisecond of memory-bound
            work, for which a thread pool's synchronisation costs more than a second thread gains on
            a small, shared machine (measured: benchmarks/README.md).

    Use as a context manager (or ``attach()``/``detach()``); call :meth:`record_signs`
    whenever a row of the sign heatmap is wanted (e.g. at the end of every epoch).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        zero_thresh: float = 1e-7,
        low_thresh: float = 1e-5,
        ema: float = 0.9,
        pull_every: int = 50,
        sign_indices: int = 4096,
        json_path: str | Path | None = None,
        log_dir: str | Path | None = None,
        compile: bool | str | None = None,
        cpu_threads: int | None = 1,
    ):
        if not 0 < zero_thresh <= low_thresh:
            raise ValueError(f"need 0 < zero_thresh <= low_thresh, got {zero_thresh}, {low_thresh}")
        if pull_every < 1:
            raise ValueError(f"pull_every must be >= 1, got {pull_every}")
        self.model, self.optimizer = model, optimizer
        self.zero_thresh, self.low_thresh, self.ema, self.pull_every = zero_thresh, low_thresh, ema, pull_every
        self.json_path = Path(json_path) if json_path is not None else None
        self.log_dir = log_dir
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("the model has no trainable parameters")
        self.params = [p for _, p in named]
        self.layer_names = list(dict.fromkeys(n.rsplit(".", 1)[0] for n, _ in named))
        self.param_sizes = [p.numel() for p in self.params]
        dev = self.params[0].device
        layer_of_param = torch.tensor([self.layer_names.index(n.rsplit(".", 1)[0]) for n, _ in named], device=dev)
        self.layer_id = torch.repeat_interleave(layer_of_param, torch.tensor(self.param_sizes, device=dev))
        self.n = sum(self.param_sizes)
        self.layer_sizes = torch.bincount(self.layer_id, minlength=len(self.layer_names)).tolist()
        if (self.layer_id.diff() < 0).any():
            raise ValueError("parameters of one layer are not contiguous in model.parameters() order")
        self._layer_bounds = torch.tensor([0, *torch.tensor(self.layer_sizes).cumsum(0).tolist()], device=dev)
        k = min(sign_indices, self.n)
        self.sign_index = torch.linspace(0, self.n - 1, k, device=dev).round().long()
        self.sign_rows: list[torch.Tensor] = []
        self.sign_row_steps: list[int] = []
        self.step = 0
        self.history: dict[str, list[float]] = {"step": [], **{s: [] for s in SCALARS}}
        self.layer_zero_history: list[list[int]] = []
        self._buf = torch.zeros(pull_every, len(SCALARS), device=dev)
        self._layer_buf = torch.zeros(pull_every, len(self.layer_names), device=dev)
        self._filled = 0
        self._prev_g = self._prev_w = self._prev_dw = self._ema_g = self._ema_w = self._prev_low = None
        use_compile = dev.type == "cuda" if compile is None else compile
        mode = use_compile if isinstance(use_compile, str) else None
        self._step_fn = torch.compile(step_statistics, dynamic=False, mode=mode) if use_compile else None
        # without compilation: the buffered eager version (same counts, fewer and cheaper passes)
        self._eager = None if use_compile else EagerStepStatistics(self.n, self.layer_sizes, dev, zero_thresh,
                                                                   low_thresh, ema)
        if cpu_threads is not None and cpu_threads < 1:
            raise ValueError(f"cpu_threads must be >= 1 or None, got {cpu_threads}")
        self.cpu_threads = cpu_threads if dev.type == "cpu" else None
        self._handle = None
        self._writer = None

    # -- attach / detach ------------------------------------------------------------------
    def attach(self) -> "GradientTracker":
        if self._handle is not None:
            raise RuntimeError("tracker already attached")
        self._handle = self.optimizer.register_step_post_hook(lambda opt, args, kwargs: self.update())
        return self

    def detach(self) -> None:
        """Stop recording, flush what is buffered, close TensorBoard (idempotent)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "GradientTracker":
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    @property
    def attached(self) -> bool:
        return self._handle is not None

    # -- per step ---------------------------------------------------------------------------
    def _grads(self) -> list[torch.Tensor]:
        # update() runs under no_grad: the tensors are read as they are, no detach() calls
        return [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        """Record one step (called automatically after ``optimizer.step()`` once attached)."""
        params = self.params
        if self._eager is not None:
            threads = torch.get_num_threads()
            if self.cpu_threads is not None and threads != self.cpu_threads:
                torch.set_num_threads(self.cpu_threads)
            try:
                if self.step == 0:
                    self._eager.start(self._grads(), params)
                row, layer_zero = self._eager(self._grads(), params)
            finally:
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
        else:
            if self._prev_g is None:  # first step: the state starts from the current values
                g = torch.cat([t.reshape(-1) for t in self._grads()]).float()
                w = torch.cat([t.reshape(-1) for t in params]).float()
                self._prev_g, self._prev_w, self._prev_dw = g, w, torch.zeros_like(w)
                self._prev_low = g.abs() < self.low_thresh
                self._ema_g, self._ema_w = g.clone(), w.clone()
            row, layer_zero = self._step_fn(
                self._grads(), params, self._prev_g, self._prev_w, self._prev_dw, self._prev_low, self._ema_g,
                self._ema_w, self._layer_bounds, self.zero_thresh, self.low_thresh, self.ema)
        if self.step < 2:  # quantities that need earlier steps do not exist yet
            row = row.clone()
            row[_NEEDS_TWO] = float("nan")
            if self.step == 0:
                row[_NEEDS_ONE] = float("nan")
        self._buf[self._filled] = row
        self._layer_buf[self._filled] = layer_zero
        self._filled += 1
        self.step += 1
        if self._filled == self.pull_every:
            self.flush()

    @torch.no_grad()
    def record_signs(self) -> None:
        """Append one row of gradient-sign codes (at the sampled indices) for the heatmap."""
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self.params])
        g = g[self.sign_index]
        code = torch.zeros_like(g, dtype=torch.int8)
        small = g.abs() <= self.low_thresh
        code[small & (g < 0)] = 1
        code[small & (g > 0)] = 2
        code[g == 0] = 3
        self.sign_rows.append(code)
        self.sign_row_steps.append(self.step)

    # -- host side ------------------------------------------------------------------------
    def flush(self) -> None:
        """Copy the buffered steps to the host history (one transfer), write JSON and TensorBoard."""
        if self._filled == 0:
            return
        block = self._buf[: self._filled].cpu()  # the one host transfer per pull
        layer_block = self._layer_buf[: self._filled].cpu()
        first = self.step - self._filled
        self.history["step"].extend(range(first, self.step))
        for name, column in zip(SCALARS, block.t().tolist()):
            self.history[name].extend(column)
        self.layer_zero_history.extend(layer_block.long().tolist())
        self._filled = 0
        if self.json_path is not None:
            write_json_atomic(self.json_path, self.to_dict())
        if self.log_dir is not None:
            self._log_tensorboard(block, first)

    def _log_tensorboard(self, block: torch.Tensor, first: int) -> None:
        if self._writer is None:
            self._writer = ScalarLogger(self.log_dir, keep=False)  # the package's one scalar logger
        for i, row in enumerate(block.tolist()):
            for name, v in zip(SCALARS, row):
                self._writer.scalar(f"optim/{name}", v, first + i)  # NaN (no previous step) is skipped
        self._writer.flush()

    def to_dict(self) -> dict:
        return {
            "thresholds": {"zero": self.zero_thresh, "low": self.low_thresh},
            "parameters": self.n,
            "layers": dict(zip(self.layer_names, self.layer_sizes)),
            "history": self.history,
            "layer_zero_grads": self.layer_zero_history,
        }

    def frame(self):
        """Per-step scalars as a pandas DataFrame indexed by step (flushes first)."""
        import pandas as pd

        self.flush()
        return pd.DataFrame(self.history).set_index("step")

    def layer_frame(self):
        """Per-step zero-gradient counts per layer (steps x layers)."""
        import pandas as pd

        self.flush()
        return pd.DataFrame(self.layer_zero_history, columns=self.layer_names, index=self.history["step"])

    def sign_record(self) -> tuple[torch.Tensor, list[int]]:
        """(rows, indices) int8 codes of every :meth:`record_signs` call, and the step of each row."""
        if not self.sign_rows:
            raise ValueError("no sign rows recorded: call record_signs() (e.g. at the end of each epoch)")
        return torch.stack(self.sign_rows).cpu(), list(self.sign_row_steps)

    def layer_boundaries(self) -> list[tuple[str, int, int]]:
        """(layer, first, last+1) positions of each layer inside the sign record's columns."""
        ids = self.layer_id[self.sign_index].cpu()
        out = []
        for k, name in enumerate(self.layer_names):
            cols = (ids == k).nonzero().squeeze(1)
            if cols.numel():
                out.append((name, int(cols[0]), int(cols[-1]) + 1))
        return out
