"""Known-answer tests for the VAE latent diagnostics and their TensorBoard logger."""
import math

import numpy as np

import pytest
import torch

from nblib.latents import LatentTensorBoardLogger, LayerCodes, active_units, factor_mutual_information, histogram_edges, loss_fluctuation, mu_histograms, mutual_information_gap
from nblib.models.vae_encoders import gaussian_kl


def test_gaussian_kl_standard_normal_closed_form():
    mu = torch.tensor([[0.0, 1.0, 0.0, 2.0]])
    logvar = torch.tensor([[0.0, 0.0, math.log(4.0), math.log(0.25)]])
    # 0.5 * (var + mu^2 - 1 - log var) per unit
    expected = [0.0, 0.5, 0.5 * (4 - 1 - math.log(4)), 0.5 * (0.25 + 4 - 1 - math.log(0.25))]
    assert gaussian_kl(mu, logvar)[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_gaussian_kl_matches_torch_distributions_against_a_diagonal_prior():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    lv_q, lv_p = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    ours = gaussian_kl(mu_q, lv_q, mu_p, lv_p)
    q = torch.distributions.Normal(mu_q, (0.5 * lv_q).exp())
    p = torch.distributions.Normal(mu_p, (0.5 * lv_p).exp())
    assert ours.shape == (6, 5)
    assert torch.allclose(ours, torch.distributions.kl_divergence(q, p), atol=1e-5)
    assert (ours >= 0).all()
    assert torch.allclose(gaussian_kl(mu_q, lv_q, mu_q, lv_q), torch.zeros(6, 5), atol=1e-6)


def test_gaussian_kl_matches_a_monte_carlo_estimate():
    torch.manual_seed(0)
    mu_q, lv_q = torch.tensor([0.3, -1.0, 2.0]), torch.tensor([-1.0, 0.5, -2.0])
    mu_p, lv_p = torch.tensor([0.0, 0.5, 1.5]), torch.tensor([0.0, -0.5, 0.3])
    q = torch.distributions.Normal(mu_q, (0.5 * lv_q).exp())
    p = torch.distributions.Normal(mu_p, (0.5 * lv_p).exp())
    z = q.sample((400_000,))  # (S, 3)
    mc = (q.log_prob(z) - p.log_prob(z)).mean(0)  # E_q[log q - log p] per unit
    closed = gaussian_kl(mu_q, lv_q, mu_p, lv_p)
    assert torch.allclose(closed, mc, atol=0.02), (closed, mc)


def test_active_units_counts_constructed_latents():
    n = 1000
    t = torch.linspace(-1, 1, n)
    means = torch.stack(
        [
            t * 1.0,  # variance ~0.334: active
            torch.zeros(n),  # a collapsed unit: variance 0
            t * 0.1,  # variance ~0.00334: below 0.01
            t * 0.2,  # variance ~0.0134: just above 0.01
            torch.full((n,), 3.0),  # constant far from 0: inactive although |mu| is large
        ],
        dim=1,
    )
    active, var = active_units(means)
    assert active.tolist() == [True, False, False, True, False]
    # unbiased variance of n evenly spaced points on [-1, 1]: n (n + 1) / (3 (n - 1)^2) = 0.33433...
    closed = n * (n + 1) / (3 * (n - 1) ** 2)
    assert var.tolist() == pytest.approx([closed, 0.0, 0.01 * closed, 0.04 * closed, 0.0], rel=1e-4, abs=1e-9)
    # 3 units exceed 0.001: variances 0.334, 0.00334 and 0.0134 (the zero-variance units never count)
    assert active_units(means, threshold=0.001)[0].tolist() == [True, False, True, True, False]
    with pytest.raises(ValueError, match="N >= 2"):
        active_units(torch.zeros(1, 3))


def test_mu_histograms_counts_per_unit_and_clamps_the_ends():
    mu = torch.tensor([[-0.5, 10.0], [0.5, -10.0], [1.5, 0.1], [0.4, 0.2]])  # (N=4, D=2)
    h = mu_histograms(mu, bins=4, value_range=(-2.0, 2.0))  # edges -2, -1, 0, 1, 2
    assert h.shape == (2, 4)
    assert h[0].tolist() == [0, 1, 2, 1]
    assert h[1].tolist() == [1, 0, 2, 1]  # -10 and 10 land in the end bins
    assert (h.sum(1) == 4).all()
    assert histogram_edges(4, (-2.0, 2.0)).tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_batch_mean_hides_a_spread_unit_that_the_histogram_shows():
    spread = torch.cat([torch.full((50, 1), -2.0), torch.full((50, 1), 2.0)])  # informative, mean 0
    dead = torch.zeros(100, 1)
    mu = torch.cat([spread, dead], 1)
    assert mu.mean(0).abs().max().item() == 0.0  # both look "collapsed" in a batch-mean plot
    h = mu_histograms(mu, bins=8, value_range=(-4.0, 4.0))
    assert (h[0] > 0).sum().item() == 2 and (h[1] > 0).sum().item() == 1


def test_factor_mutual_information_known_answers():
    n = 6000
    g = torch.Generator().manual_seed(0)
    shape = torch.randint(0, 3, (n,), generator=g)
    scale = torch.randint(0, 6, (n,), generator=g)
    factors = torch.stack([shape, scale], 1)  # (N, 2)
    latents = torch.stack([shape.float() * 2.0 - 1.0, torch.randn(n, generator=g), -scale.float()], 1)  # (N, 3)
    nmi = factor_mutual_information(latents, factors, bins=6)
    assert nmi.shape == (3, 2)
    assert nmi[0, 0].item() == pytest.approx(1.0, abs=1e-4)  # a copy of shape
    assert nmi[2, 1].item() == pytest.approx(1.0, abs=1e-4)  # a (negated) copy of scale
    assert nmi[1].max().item() < 0.01  # noise: only the estimator's small positive bias
    assert nmi[0, 1].item() < 0.01 and nmi[2, 0].item() < 0.01  # independent factors
    raw = factor_mutual_information(latents, factors, bins=6, normalise=False)
    assert raw[0, 0].item() == pytest.approx(math.log(3), abs=0.01)  # H(shape), about uniform


def test_factor_mutual_information_rejects_continuous_factors():
    with pytest.raises(ValueError, match="integer levels"):
        factor_mutual_information(torch.randn(10, 2), torch.rand(10, 1))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        factor_mutual_information(torch.randn(10), torch.zeros(10, 1, dtype=torch.long))


def test_loss_fluctuation_smooth_vs_noisy():
    t = torch.arange(500, dtype=torch.float32)
    smooth = 100 * torch.exp(-t / 200) + 10
    noisy = smooth + torch.randn(500, generator=torch.Generator().manual_seed(0)) * 10
    assert loss_fluctuation(smooth) < 0.01
    assert loss_fluctuation(noisy) > 0.1
    with pytest.raises(ValueError, match="more than window"):
        loss_fluctuation(torch.ones(10), window=25)


def test_tensorboard_logger_writes_every_layer_including_the_last(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    g = torch.Generator().manual_seed(0)
    layers = [LayerCodes(torch.randn(64, d, generator=g), torch.zeros(64, d), torch.rand(d, generator=g)) for d in (4, 5)]
    with LatentTensorBoardLogger(tmp_path) as logger:
        for epoch in (1, 2):
            logger.log_epoch(epoch, {"recon": 30.0, "kl_total": 5.0, "epoch": epoch}, layers, torch.rand(10))
    acc = EventAccumulator(str(tmp_path), size_guidance={"histograms": 0, "scalars": 0})
    acc.Reload()
    scalars, histograms = set(acc.Tags()["scalars"]), set(acc.Tags()["histograms"])
    for name, d in (("layer0", 4), ("layer1", 5)):  # the final layer too
        assert {f"{name}/kl", f"{name}/active_units", f"{name}/kl_unit{d - 1}", f"{name}/batch_mean_mu_unit0"} <= scalars
        assert {f"{name}/mu", f"{name}/sigma", f"{name}/mu_unit{d - 1}"} <= histograms
    assert {"loss/recon", "loss/kl_total"} <= scalars and "loss/epoch" not in scalars
    assert len(acc.Scalars("layer1/kl")) == 2
    assert acc.Scalars("layer1/active_units")[0].value == 5


def test_plots_draw_from_tensors():
    import matplotlib.pyplot as plt

    from nblib.latents import plot_batch_mean_vs_histogram, plot_factor_scores, plot_kl_per_unit, plot_loss_curves, plot_mu_histograms, plot_reconstruction_grid

    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 64, generator=g)
    figs = [
        plot_reconstruction_grid(x, {"model a": x.flip(0), "model b": x}, n=4),
        plot_kl_per_unit([torch.rand(3, 4, generator=g), torch.rand(3, 5, generator=g)]),
        plot_mu_histograms(torch.rand(3, 7, 11, generator=g), histogram_edges(11)),
        plot_batch_mean_vs_histogram(torch.randn(50, 3, generator=g), torch.randn(40, 3, generator=g), steps_per_epoch=10),
        plot_factor_scores(torch.rand(4, 2, generator=g), ["u0", "u1", "u2", "u3"], ["shape", "scale"]),
        plot_loss_curves({"a": torch.rand(60, generator=g), "b": torch.rand(10, generator=g)}, steps_per_epoch=20),
    ]
    assert len(figs[0].axes) == 3 * 4
    assert len(figs[2].axes) == 10  # 7 units on a 2 x 5 grid, 3 panels switched off
    for fig in figs:
        plt.close(fig)
    with pytest.raises(ValueError, match="square"):
        plot_reconstruction_grid(torch.rand(2, 10), {})


def test_fluctuation_explained_by_a_covariate():
    from nblib.latents import fluctuation_explained_by

    g = torch.Generator().manual_seed(0)
    t = torch.arange(400, dtype=torch.float32)
    area = torch.rand(400, generator=g)
    driven = 50 * torch.exp(-t / 100) + 8 * area  # wiggle = the batch's area
    unrelated = 50 * torch.exp(-t / 100) + 8 * torch.rand(400, generator=g)
    assert fluctuation_explained_by(driven, area) == pytest.approx(1.0, abs=1e-3)
    assert fluctuation_explained_by(unrelated, area) < 0.05
    with pytest.raises(ValueError, match="equal length"):
        fluctuation_explained_by(driven, area[:10])


def _mi_brute_force(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in MI of two discrete arrays from their joint counts, in nats (a loop over cells)."""
    n, mi = len(a), 0.0
    for u in np.unique(a):
        for v in np.unique(b):
            pj = np.mean((a == u) & (b == v))
            if pj > 0:
                mi += pj * np.log(pj / (np.mean(a == u) * np.mean(b == v)))
    return mi


def test_mutual_information_gap_against_brute_force():
    gen = torch.Generator().manual_seed(0)
    factors = torch.stack([torch.randint(0, 3, (2000,), generator=gen), torch.randint(0, 6, (2000,), generator=gen)], 1)
    latents = torch.stack([factors[:, 0] + 0.3 * torch.rand(2000, generator=gen),   # shape, blurred
                           factors[:, 1] + 0.9 * torch.rand(2000, generator=gen),   # scale, blurred more
                           factors[:, 1] + 0.2 * torch.randn(2000, generator=gen),  # scale again
                           torch.randn(2000, generator=gen)], 1).float()
    bins = 10
    mig, gap = mutual_information_gap(latents, factors, bins=bins)
    lo, hi = latents.min(0).values, latents.max(0).values
    binned = ((latents - lo) / (hi - lo) * bins).floor().clamp(0, bins - 1).long().numpy()
    f = factors.numpy()
    want = []
    for k in range(2):
        mis = sorted((_mi_brute_force(binned[:, j], f[:, k]) for j in range(4)), reverse=True)
        want.append((mis[0] - mis[1]) / _mi_brute_force(f[:, k], f[:, k]))
    assert gap.numpy() == pytest.approx(want, abs=1e-5)
    assert mig == pytest.approx(np.mean(want), abs=1e-5)


def test_mutual_information_gap_known_answers():
    gen = torch.Generator().manual_seed(1)
    factors = torch.randint(0, 4, (4000, 2), generator=gen)
    alone = torch.cat([factors.float(), torch.randn(4000, 1, generator=gen)], 1)  # one unit per factor
    assert mutual_information_gap(alone, factors)[0] > 0.98
    twice = torch.cat([factors.float(), factors.float()], 1)  # every factor in two units: no gap
    assert mutual_information_gap(twice, factors)[0] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        mutual_information_gap(torch.randn(10, 1), factors[:10, :1])
