"""Slot Attention, the spatial-broadcast decoder and the ARC slot autoencoder: shapes, invariants, training."""
import math

import pytest
import torch
from torch import nn

from nblib.inspect import Inspector
from nblib.engine import train_slot_autoencoder
from nblib.models.arc_slots import (ARCEncoder, ARCSlotAutoencoder, bucketed_batches, crop_to_extent,
                                    evaluate_slot_autoencoder, reconstruction_loss)
from nblib.models.slot_attention import SlotAttention, SpatialBroadcastDecoder, grid_coordinates


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def toy_grids(n=6, side=30, seed=0, noise=True):
    """ARC-like batch in top-left grids of random size: one-hot, colours, mask.

    Random colours (noise=True), or learnable stripes: colour = (row + offset) % 10."""
    g = gen(seed)
    sizes = torch.randint(2, 9, (n, 2), generator=g)
    rows, cols = torch.arange(side), torch.arange(side)
    mask = (rows[None, :, None] < sizes[:, 0, None, None]) & (cols[None, None, :] < sizes[:, 1, None, None])
    if noise:
        colours = torch.randint(0, 10, (n, side, side), generator=g) * mask
    else:
        offset = torch.randint(0, 10, (n, 1, 1), generator=g)
        colours = ((rows[None, :, None] + offset) % 10).expand(n, side, side) * mask
    onehot = torch.nn.functional.one_hot(colours, 10).permute(0, 3, 1, 2).float() * mask[:, None]
    return onehot, colours, mask


def test_slot_attention_shapes_and_normalisation_over_slots():
    torch.manual_seed(0)
    sa = SlotAttention(num_slots=5, input_dim=12, slot_dim=8, iters=3)
    x = torch.randn(3, 20, 12)
    slots, attn = sa(x)
    assert slots.shape == (3, 5, 8) and attn.shape == (3, 5, 20)
    assert torch.allclose(attn.sum(1), torch.ones(3, 20), atol=1e-5), "each input spreads 1 over the slots"
    assert not torch.allclose(attn.sum(2), attn.sum(2)[:, :1]), "not normalised over inputs"
    slots7, attn7 = sa(x, num_slots=7)
    assert slots7.shape == (3, 7, 8) and attn7.shape == (3, 7, 20)
    assert sa.slots_mu.shape == (1, 1, 8) and sa.slots_log_sigma.shape == (1, 1, 8)  # learned Gaussian init


def test_masked_inputs_take_no_part():
    torch.manual_seed(0)
    sa = SlotAttention(num_slots=4, input_dim=6, slot_dim=6).eval()
    x = torch.randn(2, 10, 6)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[:, 7:] = False
    slots_a, attn_a = sa(x, mask, generator=gen(1))
    x2 = x.clone()
    x2[:, 7:] = 100 * torch.randn(2, 3, 6)  # change only what the mask hides
    slots_b, attn_b = sa(x2, mask, generator=gen(1))
    assert torch.allclose(slots_a, slots_b, atol=1e-5)
    assert (attn_a[:, :, 7:] == 0).all()
    assert torch.allclose(attn_a.sum(1)[:, :7], torch.ones(2, 7), atol=1e-5)


def test_permuting_inputs_permutes_attention_and_keeps_slots():
    torch.manual_seed(0)
    sa = SlotAttention(num_slots=3, input_dim=5, slot_dim=4)
    x = torch.randn(2, 9, 5)
    perm = torch.randperm(9)
    s1, a1 = sa(x, generator=gen(2))
    s2, a2 = sa(x[:, perm], generator=gen(2))
    assert torch.allclose(s1, s2, atol=1e-5)
    assert torch.allclose(a1[:, :, perm], a2, atol=1e-5)


def test_one_iteration_is_the_papers_update():
    """iters=1 by hand: softmax over slots, weighted mean over inputs, GRU, residual MLP."""
    torch.manual_seed(0)
    sa = SlotAttention(num_slots=3, input_dim=5, slot_dim=4, iters=1, eps=0.0)
    x = torch.randn(2, 7, 5)
    slots, attn = sa(x, generator=gen(3))
    init = sa.initial_slots(2, 3, gen(3))
    inp = sa.norm_inputs(x)
    k, v = sa.to_k(inp), sa.to_v(inp)
    q = sa.to_q(sa.norm_slots(init))
    a = torch.softmax(k @ q.transpose(1, 2) / math.sqrt(4), dim=-1)  # (B, N, K)
    updates = (a / a.sum(1, keepdim=True)).transpose(1, 2) @ v  # weighted mean over inputs
    expect = sa.gru(updates.reshape(-1, 4), init.reshape(-1, 4)).view(2, 3, 4)
    expect = expect + sa.mlp(sa.norm_mlp(expect))
    assert torch.allclose(slots, expect, atol=1e-5)
    assert torch.allclose(attn, a.transpose(1, 2), atol=1e-6)


def test_decoder_mixture_is_a_distribution():
    torch.manual_seed(0)
    dec = SpatialBroadcastDecoder(slot_dim=8, out_channels=10, hidden=16, layers=2)
    log_probs, alpha = dec(torch.randn(2, 4, 8), 5, 6)
    assert log_probs.shape == (2, 10, 5, 6) and alpha.shape == (2, 4, 5, 6)
    assert torch.allclose(alpha.sum(1), torch.ones(2, 5, 6), atol=1e-5)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(2, 5, 6), atol=1e-5)
    single, one_alpha = dec(torch.randn(2, 1, 8), 3, 3)  # one slot: alpha 1 everywhere
    assert torch.allclose(one_alpha, torch.ones_like(one_alpha))


def test_grid_coordinates_are_absolute():
    full, crop = grid_coordinates(30, 30), grid_coordinates(4, 7)
    assert torch.equal(full[:4, :7], crop)
    with pytest.raises(ValueError, match="max_side"):
        grid_coordinates(31, 5)


def test_autoencoder_shapes_and_padding_never_leaks():
    torch.manual_seed(0)
    onehot, colours, mask = toy_grids()
    model = ARCSlotAutoencoder(num_slots=7, hidden=16, depth=2, slot_dim=8, decoder_hidden=16).eval()
    out = model(onehot, mask, generator=gen(0))
    assert out.log_probs.shape == (6, 10, 30, 30) and out.slots.shape == (6, 7, 8)
    assert out.attn.shape == (6, 7, 30, 30) and out.alpha.shape == (6, 7, 30, 30)
    assert torch.allclose(out.attn.sum(1)[mask], torch.ones(int(mask.sum())), atol=1e-5)
    assert (out.attn.sum(1)[~mask] == 0).all()
    # cropping the batch to its extent changes nothing inside the grids (eval mode)
    x, c, m = crop_to_extent(onehot, colours, mask)
    assert x.shape[-2:] == (int(mask.any(2).sum(1).max()), int(mask.any(1).sum(1).max()))
    cropped = model(x, m, generator=gen(0))
    h, w = m.shape[1:]
    assert torch.allclose(cropped.slots, out.slots, atol=1e-4)
    assert torch.allclose(cropped.log_probs[m[:, None].expand_as(cropped.log_probs)],
                          out.log_probs[:, :, :h, :w][m[:, None].expand(-1, 10, -1, -1)], atol=1e-4)


def test_fixes_are_constructor_arguments():
    assert isinstance(ARCEncoder(activation="leaky_relu").blocks[0].act, nn.LeakyReLU)
    assert isinstance(ARCEncoder(activation="gelu").blocks[1].act, nn.GELU)
    assert isinstance(ARCEncoder().blocks[0].act, nn.ReLU)
    assert isinstance(ARCEncoder(dropout=0.2).blocks[0].drop, nn.Dropout)
    res = ARCEncoder(residual=True)
    assert [b.residual for b in res.blocks] == [False, True, True, True]  # the first block changes channels
    torch.manual_seed(0)
    default, kaiming = ARCEncoder(), ARCEncoder(init="kaiming")
    w_default, w_kaiming = default.blocks[1].conv.weight.std(), kaiming.blocks[1].conv.weight.std()
    assert w_kaiming.item() == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.05)  # He, fan_out = 128 * 3 * 3
    assert w_default < 0.7 * w_kaiming
    for bad, match in (({"activation": "tanh"}, "activation"), ({"init": "xavier"}, "init"), ({"depth": 0}, "depth")):
        with pytest.raises(ValueError, match=match):
            ARCEncoder(**bad)


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    enc = ARCEncoder(in_channels=3, hidden=4, depth=2, residual=True).eval()
    block = enc.blocks[1]
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(block(x), torch.relu(block.bn(block.conv(x)) + x))


def test_reconstruction_loss_known_answer_and_mask():
    log_probs = torch.full((2, 10, 3, 3), -math.log(10))  # uniform over 10 colours
    colours = torch.zeros(2, 3, 3, dtype=torch.long)
    mask = torch.zeros(2, 3, 3, dtype=torch.bool)
    mask[0, 0, 0] = True
    assert reconstruction_loss(log_probs, colours, mask).item() == pytest.approx(math.log(10))
    log_probs[1] = -1000.0  # terrible, but outside the mask
    assert reconstruction_loss(log_probs, colours, mask).item() == pytest.approx(math.log(10))


def test_bucketed_batches_are_disjoint_and_size_sorted_within_pools():
    areas = torch.randint(4, 900, (200,), generator=gen(0))
    b = bucketed_batches(areas, batch_size=16, pool=4, generator=gen(1))
    assert b.shape == (12, 16)  # 200 // 64 = 3 pools of 4 batches
    assert b.unique().numel() == b.numel()
    spread_bucketed = (areas[b].amax(1) - areas[b].amin(1)).float().mean()
    random_batches = torch.randperm(200, generator=gen(2))[:192].view(12, 16)
    spread_random = (areas[random_batches].amax(1) - areas[random_batches].amin(1)).float().mean()
    assert spread_bucketed < 0.6 * spread_random
    with pytest.raises(ValueError, match="batch"):
        bucketed_batches(areas[:5], batch_size=8)


def test_one_training_step_smoke_and_a_few_steps_learn():
    torch.manual_seed(0)
    onehot, colours, mask = toy_grids(n=16, noise=False)
    model = ARCSlotAutoencoder(num_slots=3, hidden=16, depth=2, slot_dim=16, decoder_hidden=32)
    before = [p.detach().clone() for p in model.parameters()]
    losses = train_slot_autoencoder(model, onehot, colours, mask, steps=1, batch_size=8, progress=False)
    assert losses.shape == (1,) and torch.isfinite(losses).all()
    changed = [not torch.equal(a, p) for a, p in zip(before, model.parameters()) if p.requires_grad]
    assert sum(changed) >= 0.9 * len(changed), "one step moves (almost) every parameter"
    assert not model.training, "returned in eval mode"
    losses = train_slot_autoencoder(model, onehot, colours, mask, steps=100, lr=3e-3, batch_size=8, progress=False)
    assert losses[-10:].mean() < 0.8 * losses[:5].mean()


def test_evaluate_matches_one_full_canvas_pass():
    torch.manual_seed(0)
    onehot, colours, mask = toy_grids(n=10)
    model = ARCSlotAutoencoder(num_slots=4, hidden=16, depth=2, slot_dim=8, decoder_hidden=16)
    model.train()
    out, acts = evaluate_slot_autoencoder(model, onehot, mask, layers=("encoder.blocks.1",), batch_size=3)
    assert model.training, "training mode restored"
    model.eval()
    with Inspector(model, ["encoder.blocks.1"]) as insp:
        ref = model(onehot, mask)
    assert out.log_probs.shape == ref.log_probs.shape and acts["encoder.blocks.1"].shape == (10, 16, 30, 30)
    cells = mask[:, None]
    assert torch.allclose(acts["encoder.blocks.1"] * cells, insp.cache["encoder.blocks.1"] * cells, atol=1e-4)
    # slot noise differs between the two calls, so compare what does not depend on it
    assert torch.allclose(out.attn.sum(1)[mask], torch.ones(int(mask.sum())), atol=1e-5)
    again, _ = evaluate_slot_autoencoder(model, onehot, mask, batch_size=3)
    assert torch.equal(again.slots, out.slots), "seeded slot initialisation: reproducible"


def test_training_callback_runs_in_eval_mode_every_n_steps():
    torch.manual_seed(0)
    onehot, colours, mask = toy_grids(n=8)
    model = ARCSlotAutoencoder(num_slots=2, hidden=8, depth=1, slot_dim=8, decoder_hidden=8)
    seen = []
    train_slot_autoencoder(model, onehot, colours, mask, steps=5, batch_size=4, progress=False, callback_every=2,
                           callback=lambda step, m: seen.append((step, m.training, torch.is_grad_enabled())))
    assert seen == [(2, False, False), (4, False, False)]


def test_lr_schedule_warmup_cosine_linear_and_default_constant():
    from nblib.engine import lr_at_step

    assert [lr_at_step(t, 10) for t in range(10)] == [1.0] * 10  # the default: constant
    warm = [lr_at_step(t, 100, warmup=4, schedule="cosine") for t in range(100)]
    assert warm[:4] == [0.25, 0.5, 0.75, 1.0]
    assert warm[-1] == pytest.approx(0.0, abs=1e-12)
    assert warm[4 + 95 // 2] == pytest.approx(0.5 * (1 + math.cos(math.pi * (95 // 2) / 95)))
    lin = [lr_at_step(t, 11, schedule="linear", final_fraction=0.1) for t in range(11)]
    assert lin[0] == 1.0 and lin[-1] == pytest.approx(0.1) and lin[5] == pytest.approx(0.55)
    assert all(a >= b for a, b in zip(warm[4:], warm[5:]))  # monotone after warm-up
    with pytest.raises(ValueError):
        lr_at_step(0, 10, schedule="step")


def test_train_applies_schedule_and_clipping():
    """A planted check: the optimizer sees the scheduled rate, and clipping bounds the update."""
    from nblib.engine import lr_at_step

    onehot, colours, mask = toy_grids(n=8)
    seen = []

    class Spy(torch.optim.Adam):
        def step(self, closure=None):
            seen.append(self.param_groups[0]["lr"])
            norms.append(torch.sqrt(sum((p.grad ** 2).sum() for p in self.param_groups[0]["params"]
                                        if p.grad is not None)).item())
            return super().step(closure)

    norms: list[float] = []
    torch.manual_seed(0)
    model = ARCSlotAutoencoder(num_slots=2, hidden=8, depth=1, slot_dim=8, decoder_hidden=8)
    real = torch.optim.Adam
    torch.optim.Adam = Spy
    try:
        train_slot_autoencoder(model, onehot, colours, mask, steps=6, lr=1e-2, batch_size=4, progress=False,
                               warmup=2, schedule="linear", clip_norm=1e-3)
    finally:
        torch.optim.Adam = real
    assert seen == pytest.approx([1e-2 * lr_at_step(t, 6, 2, "linear") for t in range(6)])
    assert max(norms) <= 1e-3 * (1 + 1e-4)


def test_tail_change_known_answers():
    from nblib.engine import tail_change

    assert tail_change([1.0] * 100) == 0.0
    falling = torch.linspace(2, 1, 100)  # still falling: the tail changes by more than 2%
    assert tail_change(falling) > 0.02
    points = [3.0, 2.0, 1.5, 1.2, 1.1, 1.05, 1.02, 1.01, 1.0, 0.99]
    assert tail_change(points, window=0) == pytest.approx((1.0 - 0.99) / 1.0)
