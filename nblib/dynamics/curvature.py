"""What the tracker's "minima vs maxima crossed" counts measure: one step read three ways.

The tracker calls a coordinate's sign flip a *minimum crossed* when the gradient change has the same
sign as the weight move between the two evaluations (positive secant curvature). But consecutive
gradients come from different mini-batches, and the weight move follows the earlier gradient: with
batch noise alone, a flip of g_t against g_(t-1) makes dg point against g_(t-1), which is the way the
weights moved, so most flips register as "minima" whatever the curvature. This module takes one
optimizer step from a copy of the model and reads the secant in three ways:

- ``tracker``: g(w_t+1; next batch) against g(w_t; batch): what the tracker records;
- ``same_batch``: g(w_t+1; batch) against g(w_t; batch): batch noise removed, only the move remains;
- ``zero_curvature_null``: g(w_t; next batch) against g(w_t; batch): the weights did not move, so
  there is no curvature at all; every "crossing" is batch noise classified by the real move.

and estimates the sign of the Hessian diagonal (Hutchinson: E[z * Hz], z Rademacher) on the flipped
coordinates as an independent check of the curvature.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn

READINGS = ("tracker", "same_batch", "zero_curvature_null")


def flat_grad(model: nn.Module, loss_fn: Callable, batch, create_graph: bool = False) -> torch.Tensor:
    """(P,) gradient of ``loss_fn(model(x), y)`` w.r.t. the trainable parameters, flattened."""
    x, y = batch
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=create_graph)
    return grads if create_graph else torch.cat([g.reshape(-1) for g in grads])


def hutchinson_diagonal(model: nn.Module, loss_fn: Callable, batch, samples: int = 32, seed: int = 0):
    """Hutchinson estimate of the Hessian diagonal, with its standard error.

    Returns:
        (mean, se): (P,) each; mean = average of z * (H z) over ``samples`` Rademacher vectors z.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    grads = flat_grad(model, loss_fn, batch, create_graph=True)
    g = torch.Generator(device="cpu").manual_seed(seed)
    total = sum(p.numel() for p in params)
    s1 = torch.zeros(total, device=params[0].device, dtype=torch.float64)
    s2 = torch.zeros_like(s1)
    for i in range(samples):
        z = [(torch.randint(0, 2, p.shape, generator=g).mul_(2).sub_(1)).to(p.device, p.dtype) for p in params]
        hz = torch.autograd.grad(grads, params, grad_outputs=z, retain_graph=i < samples - 1)
        est = torch.cat([(zi * hi).reshape(-1) for zi, hi in zip(z, hz)]).double()
        s1 += est
        s2 += est.square()
    mean = s1 / samples
    var = (s2 / samples - mean.square()).clamp_min(0) * samples / max(samples - 1, 1)
    return mean.float(), (var / samples).sqrt().float()


def _copy_with_optimizer(model: nn.Module, optimizer: torch.optim.Optimizer):
    m = copy.deepcopy(model)
    opt = type(optimizer)(m.parameters(), **optimizer.defaults)
    opt.load_state_dict(optimizer.state_dict())                       # momentum / Adam moments too
    return m, opt


def step_crossings(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable, batch, next_batch,
                   hutchinson_samples: int = 0, seed: int = 0) -> dict:
    """Take one step of ``optimizer`` from a copy of ``model`` on ``batch`` and classify its sign flips.

    The model and optimizer passed in are left untouched.

    Returns:
        reading -> {"flips", "minima", "maxima" (counts), "minima_share" (minima / (minima + maxima))}
        for each of :data:`READINGS`; with ``hutchinson_samples`` > 0 also, per reading and for its
        minima and its maxima coordinates: "hessian_diag_mean_*" (mean estimated H_ii over the set),
        "hessian_diag_se_*" (its standard error) and "hessian_positive_share_*" (share of the set
        whose estimate is positive; per-coordinate estimates are noisy, the set mean is not).
    """
    m, opt = _copy_with_optimizer(model, optimizer)
    m.train()
    params = [p for p in m.parameters() if p.requires_grad]
    w0 = torch.cat([p.detach().reshape(-1) for p in params]).clone()
    g0 = flat_grad(m, loss_fn, batch)
    g_null = flat_grad(m, loss_fn, next_batch)                        # same weights, other batch
    if hutchinson_samples:
        h_mean, h_se = hutchinson_diagonal(m, loss_fn, batch, hutchinson_samples, seed)
    opt.zero_grad(set_to_none=True)
    for p, gp in zip(params, torch.split(g0, [p.numel() for p in params])):
        p.grad = gp.view_as(p).clone()
    opt.step()
    dw = torch.cat([p.detach().reshape(-1) for p in params]) - w0
    second = {"tracker": flat_grad(m, loss_fn, next_batch), "same_batch": flat_grad(m, loss_fn, batch),
              "zero_curvature_null": g_null}
    out = {}
    for name in READINGS:
        g1 = second[name]
        flips = (g0 * g1) < 0
        secant = (g1 - g0) * dw
        minima, maxima = flips & (secant > 0), flips & (secant < 0)
        n_min, n_max = int(minima.sum()), int(maxima.sum())
        row = {"flips": int(flips.sum()), "minima": n_min, "maxima": n_max,
               "minima_share": n_min / max(n_min + n_max, 1)}
        if hutchinson_samples:
            for kind, mask in (("minima", minima), ("maxima", maxima)):
                k = int(mask.sum())
                # mean estimated H_ii over the set; its standard error from the per-coordinate ones
                row[f"hessian_diag_mean_{kind}"] = h_mean[mask].mean().item() if k else float("nan")
                row[f"hessian_diag_se_{kind}"] = (h_se[mask].square().sum().sqrt() / k).item() if k else float("nan")
                row[f"hessian_positive_share_{kind}"] = (h_mean[mask] > 0).float().mean().item() if k else float("nan")
        out[name] = row
    return out
