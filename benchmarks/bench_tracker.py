"""Training step with the GradientTracker against the same step without it, and against Cockpit.

SimpleCNN (1.1M parameters) on CIFAR-sized random batches, SGD with momentum. Contenders, in
rounds that alternate between them (order rotated every round), each round timing ``--steps``
training steps per contender:

- plain: the step with nothing attached (the baseline of every ratio);
- nblib ``GradientTracker`` with its defaults (on the CPU: eager buffered statistics, one thread);
- the same with ``cpu_threads=None`` (torch's own thread setting), to show why one thread is the default;
- naive copy: a step hook that copies all gradients and weights to numpy (no statistics at all);
- Cockpit (``cockpit-for-pytorch``, optional): GradNorm and UpdateSize every step, the two of its
  quantities that nblib's tracker also reports, on a BackPACK-extended copy of the model.

Before timing, nblib and Cockpit watch the same four steps and their gradient norms and update
sizes are checked equal. Median and min over the rounds.

    python benchmarks/bench_tracker.py [--device cuda] [--rounds 7] [--steps 5]
"""
from __future__ import annotations

import copy
import statistics
import sys
import time
import types
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from nblib.dynamics import GradientTracker
from nblib.models import SimpleCNN
from nblib.timing import benchmark_parser, start_benchmark


def import_cockpit():
    """cockpit 1.0.2 imports ``pkg_resources`` for its version string only; setuptools >= 81 no
    longer ships it, so a stand-in with the two names it uses is provided when it is missing."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        from importlib import metadata

        shim = types.ModuleType("pkg_resources")
        shim.DistributionNotFound = metadata.PackageNotFoundError
        shim.get_distribution = lambda name: types.SimpleNamespace(version=metadata.version(name))
        sys.modules["pkg_resources"] = shim
    import backpack
    import cockpit
    from cockpit import quantities

    return backpack, cockpit, quantities


class CockpitRun:
    """A BackPACK-extended copy of the model with its own optimizer and a Cockpit on it."""

    def __init__(self, model, lr, x, y):
        backpack, cockpit, q = import_cockpit()
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # BackPACK on a leaf input
        self.model = backpack.extend(copy.deepcopy(model))
        self.loss_fn = backpack.extend(torch.nn.CrossEntropyLoss())
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        every = lambda step: step >= 0  # noqa: E731  (UpdateSize asks about step - 1 too)
        self.q_norm, self.q_update = q.GradNorm(every), q.UpdateSize(every)
        self.cockpit = cockpit.Cockpit(self.model.parameters(), quantities=[self.q_norm, self.q_update])
        self.x, self.y, self.global_step = x, y, 0

    def step(self):
        loss = self.loss_fn(self.model(self.x), self.y)
        self.opt.zero_grad(set_to_none=True)
        info = {"loss": loss, "batch_size": len(self.x), "optimizer": self.opt}
        with self.cockpit(self.global_step, info=info):
            loss.backward(create_graph=self.cockpit.create_graph(self.global_step))
        self.opt.step()
        self.global_step += 1


def check_against_cockpit(run: CockpitRun) -> str:
    """nblib's tracker and Cockpit on the same four steps: gradient norm and update size agree."""
    tracker = GradientTracker(run.model, run.opt, pull_every=50).attach()
    start = run.global_step
    for _ in range(4):
        run.step()
    tracker.detach()
    ours = tracker.frame()
    out = run.cockpit.get_output()
    grad = [float(np.linalg.norm(out[start + k]["GradNorm"])) for k in range(4)]
    # Cockpit files UpdateSize under the step the move starts from (w before step t + 1 minus w
    # before step t): nblib's weight move of step t; nblib has none at its first step
    update = [float(np.linalg.norm(out[start + k]["UpdateSize"])) for k in (1, 2)]
    # both are float32 sums over 1.1M squares (nblib over the flat vector, Cockpit per tensor):
    # each is within about 3e-5 of the float64 norm
    ok = np.allclose(grad, ours["grad_norm"].to_numpy(), rtol=1e-4) and np.allclose(
        update, ours["weight_diff_norm"].to_numpy()[1:3], rtol=1e-4)
    if not ok:
        raise SystemExit(f"nblib and Cockpit disagree: grad {grad} vs {ours['grad_norm'].tolist()}, "
                         f"update {update} vs {ours['weight_diff_norm'].tolist()}")
    return f"gradient norms and update sizes equal to Cockpit's (rel. 1e-4): {grad[0]:.5f}, ..."


def main() -> None:
    ap = benchmark_parser(__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5, help="training steps per contender per round")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batches", type=int, nargs="+", default=None, help="default: 128 (CPU), 128 and 512 (CUDA)")
    args, dev = start_benchmark(ap, "rounds interleaved, order rotated")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    model = SimpleCNN().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"SimpleCNN, {n_params:,} parameters; {args.steps} steps per contender per round, {args.rounds} rounds; "
          f"torch threads {torch.get_num_threads()}\n")
    for bs in args.batches or ([128, 512] if dev.type == "cuda" else [128]):
        x, y = torch.randn(bs, 3, 32, 32, device=dev), torch.randint(0, 10, (bs,), device=dev)

        def step():
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        tracker = GradientTracker(model, opt, pull_every=50)
        own: list[float] = []  # seconds inside the tracker's update() (its whole per-step cost)

        def timed_update(update=tracker.update):
            t0 = time.perf_counter()
            update()
            sync()
            own.append(time.perf_counter() - t0)

        tracker.update = timed_update  # the step hook looks the method up at every call
        tracker_all = GradientTracker(model, opt, pull_every=50, cpu_threads=None)
        copies = []

        def naive_hook(o, a, k):
            copies[:] = [np.concatenate([p.grad.detach().cpu().numpy().ravel() for p in model.parameters()]),
                         np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])]

        def attached(tr):
            def run():
                tr.attach()
                try:
                    for _ in range(args.steps):
                        step()
                finally:
                    tr.detach()
            return run

        def naive():
            handle = opt.register_step_post_hook(naive_hook)
            try:
                for _ in range(args.steps):
                    step()
            finally:
                handle.remove()

        def plain():
            for _ in range(args.steps):
                step()

        contenders = {"plain step": plain, "nblib GradientTracker": attached(tracker)}
        if dev.type == "cpu":
            contenders["nblib, cpu_threads=None"] = attached(tracker_all)
        contenders["naive copy to numpy"] = naive
        try:
            cp = CockpitRun(model, 0.01, x, y)
            print(f"batch {bs}: {check_against_cockpit(cp)}")

            def cockpit_steps():
                for _ in range(args.steps):
                    cp.step()
            contenders["Cockpit (GradNorm + UpdateSize)"] = cockpit_steps
        except Exception as e:  # an optional peer: skipped with the reason
            print(f"batch {bs}: Cockpit skipped: {type(e).__name__}: {e}")
        for fn in contenders.values():  # warm-up
            fn()
        sync()
        times = {k: [] for k in contenders}
        names = list(contenders)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                t0 = time.perf_counter()
                contenders[name]()
                sync()
                times[name].append((time.perf_counter() - t0) / args.steps)
        base_med, base_min = statistics.median(times["plain step"]), min(times["plain step"])
        print(f"batch {bs}:")
        for name in names:
            med, low = statistics.median(times[name]), min(times[name])
            print(f"  {name:34s} median {med * 1e3:8.2f} ms/step  min {low * 1e3:8.2f}  "
                  f"ratio {med / base_med:.3f} (min/min {low / base_min:.3f})")
        own_med = statistics.median(own[args.steps:])  # after the warm-up round
        print(f"  the tracker's own update(): median {own_med * 1e3:.2f} ms/step = {own_med / base_med:.3f} of the "
              f"plain step's median (min {min(own) * 1e3:.2f} ms)")
        if tracker._eager is not None:
            state = tracker._eager._vectors.numel() * 4
            print(f"  tracker state: {state / 2**20:.1f} MiB = {state / (n_params * 4):.1f}x the float32 parameters "
                  f"(eager path, preallocated; nothing allocated per step)\n")


if __name__ == "__main__":
    main()
