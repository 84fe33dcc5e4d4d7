"""CSVAE: shapes, a one-step smoke test, the DAG mask, the detach option, heads and KL schedules."""
import math

import pytest
import torch

from nblib.models import CSVAE, KLSchedule, csvae_loss
from nblib.layers import DAGInteractionLayer, banded_adjacency
from nblib.models.vae_encoders import GaussianHead, SimpleFCNNEncoder, gaussian_kl
from nblib.latents import encode_dataset, evaluate, reconstruct
from nblib.engine import train_csvae


def images(n=32, d=64, seed=0):
    return (torch.rand(n, d, generator=torch.Generator().manual_seed(seed)) > 0.7).float()


def small(**kw):
    torch.manual_seed(0)
    return CSVAE(64, latent_dims=(3, 4), hidden_dim=32, decoder_hidden=(32,), **kw)


def test_one_step_smoke_test_shapes_and_a_finite_decreasing_loss():
    model, x = small(), images()
    out = model(x)
    assert out.logits.shape == (32, 64)
    assert [layer.mu.shape for layer in out.layers] == [(32, 3), (32, 4)]
    assert torch.equal(out.layers[0].prior_mu, torch.zeros(32, 3))  # N(0, I) at the top
    parts = csvae_loss(out, x)
    assert parts["kl"].shape == (2,) and [k.shape for k in parts["kl_per_unit"]] == [(3,), (4,)]
    assert torch.isclose(parts["loss"], parts["recon"] + parts["kl"].sum())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = csvae_loss(model(x, sample=False), x)["loss"].item()
    opt.zero_grad()
    parts["loss"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    opt.step()
    after = csvae_loss(model(x, sample=False), x)["loss"].item()
    assert math.isfinite(after) and after < before


def test_kl_of_a_forward_pass_is_the_closed_form_against_its_priors():
    model, x = small(), images()
    out = model(x)
    for layer in out.layers:
        assert torch.allclose(layer.kl(), gaussian_kl(layer.mu, layer.logvar, layer.prior_mu, layer.prior_logvar))


def test_precision_weighted_posterior_of_the_lower_layer():
    model, x = small(posterior="precision"), images()
    low = model(x).layers[1]
    prec_hat, prec_p = (-low.bottom_up_logvar).exp(), (-low.prior_logvar).exp()
    expected_mu = (low.bottom_up_mu * prec_hat + low.prior_mu * prec_p) / (prec_hat + prec_p)
    assert torch.allclose(low.mu, expected_mu, atol=1e-5)
    assert torch.allclose(low.logvar, -(prec_hat + prec_p).log(), atol=1e-5)
    bottom_up = small(posterior="bottom_up").forward(x).layers[1]
    assert torch.equal(bottom_up.mu, bottom_up.bottom_up_mu)


def test_detach_blocks_the_gradient_from_children_to_parents():
    x = images()
    grads = {}
    for detach in (False, True):
        model = small(detach_top_down=detach)
        parts = csvae_loss(model(x), x)
        (parts["recon"] + parts["kl"][1]).backward()  # everything except the top layer's own KL
        grads[detach] = model.encoders[0].head.linear.weight.grad  # the top layer's head
        assert model.encoders[1].head.linear.weight.grad.abs().sum() > 0  # the bottom layer still learns
        assert model.dag[0].weight.grad.abs().sum() > 0  # and so does the DAG layer
    assert grads[False].abs().sum() > 0
    assert grads[True] is None or grads[True].abs().sum() == 0


def test_dag_layer_respects_the_mask_at_any_capacity():
    adj = banded_adjacency(5, 4, parents_per_child=2)
    assert adj.sum(1).tolist() == [2] * 5 and adj.any(0).all()
    for k in (0, 1, 3):
        torch.manual_seed(0)
        layer = DAGInteractionLayer(adj, interm_unit_dim=8, n_interm_layers=k)
        z = torch.randn(7, 4, requires_grad=True)
        mu, logvar = layer(z)
        assert mu.shape == logvar.shape == (7, 5)
        jac = torch.autograd.functional.jacobian(lambda v: layer(v)[0].sum(0), z).sum(1)  # (C, P)
        assert (jac[~adj] == 0).all() and (jac[adj] != 0).all()
        assert layer.connection_strength().shape == (5, 4) and (layer.connection_strength()[~adj] == 0).all()


def test_dag_layer_child_without_parents_gets_a_constant_prior():
    adj = torch.tensor([[1, 0], [0, 0]], dtype=torch.bool)
    mu, _ = DAGInteractionLayer(adj, n_interm_layers=0)(torch.randn(10, 2))
    assert mu[:, 1].unique().numel() == 1


def test_gaussian_heads():
    torch.manual_seed(0)
    h = torch.randn(16, 8)
    sig = GaussianHead(8, 3, head="sigma")
    mu, logvar = sig(h)
    raw = sig.linear(h)[:, 3:]
    assert (raw < 0).any(), "a linear head can output negative 'sigmas'"
    assert torch.allclose(logvar, torch.log(raw.square() + 1e-8))  # read as var = sigma^2
    lv_head = GaussianHead(8, 3, head="logvar")
    assert torch.equal(lv_head(h)[1], lv_head.linear(h)[:, 3:])
    sp = GaussianHead(8, 3, head="softplus")
    assert ((0.5 * sp(h)[1]).exp() > 1e-3).all()
    with pytest.raises(ValueError, match="unknown head"):
        GaussianHead(8, 3, head="tanh")


def test_encoder_depth_and_activation():
    enc = SimpleFCNNEncoder(10, 2, hidden_dim=6, depth=3, activation="tanh")
    assert sum(isinstance(m, torch.nn.Linear) for m in enc.body) == 3
    assert sum(isinstance(m, torch.nn.Tanh) for m in enc.body) == 3
    mu, logvar, feats = enc(torch.randn(4, 10))
    assert mu.shape == (4, 2) and feats.shape == (4, 6)
    with pytest.raises(ValueError, match="depth >= 1"):
        SimpleFCNNEncoder(10, 2, depth=0)
    with pytest.raises(ValueError, match="unknown activation"):
        SimpleFCNNEncoder(10, 2, activation="swish")


def test_bad_input_names_the_fix():
    with pytest.raises(ValueError, match="flatten"):
        small()(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="adjacency"):
        CSVAE(64, latent_dims=(3, 4), adjacency=[torch.ones(3, 4, dtype=torch.bool)])


def test_kl_schedule_values():
    assert KLSchedule()(0) == 1.0 and KLSchedule(beta=4.0)(7.3) == 4.0
    switch = KLSchedule("switch", start_epoch=10)
    assert [switch(e) for e in (0, 9.99, 10, 25)] == [0.0, 0.0, 1.0, 1.0]
    ramp = KLSchedule("linear", start_epoch=2, warmup_epochs=4, beta=2.0)
    assert [ramp(e) for e in (0, 2, 3, 4, 6, 100)] == pytest.approx([0.0, 0.0, 0.5, 1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="unknown KL schedule"):
        KLSchedule("cosine")


def test_train_records_per_step_and_per_epoch_diagnostics(tmp_path):
    model, x = small(), images(64)
    hist = train_csvae(model, x, images(32, seed=1), epochs=2, batch_size=16,
                       kl_schedule=KLSchedule("switch", start_epoch=1), log_dir=tmp_path, progress=False)
    assert hist.step_loss.shape == (8,) and hist.step_kl.shape == (8, 2)
    assert torch.equal(hist.step_loss[:4], hist.step_recon[:4])  # KL weight 0 in epoch 0
    assert [e["kl_weight"] for e in hist.epochs] == [1.0, 1.0]
    assert hist.mu_hist_layer(1).shape == (2, 4, 41) and hist.kl_per_unit_layer(0).shape == (2, 3)
    assert hist.step_batch_mean_mu[1].shape == (8, 4)
    assert list(tmp_path.glob("events.out.tfevents.*"))
    codes = encode_dataset(model, x)
    assert [c.mu.shape for c in codes] == [(64, 3), (64, 4)]
    metrics, _ = evaluate(model, x)
    assert {"recon", "kl_0", "kl_1", "active_0", "active_1"} <= set(metrics)
    assert reconstruct(model, x).shape == (64, 64)
