"""nblib.interpret: gradients against closed forms and per-sample autograd, metrics with known answers."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from nblib.interpret import (  # noqa: E402
    cifar_denormalize,
    cifar_normalize,
    class_specificity,
    gradient_stability,
    input_gradients,
    noise_gradients,
    plot_accuracy_table,
    plot_filter_grid,
    plot_gradient_grid,
    plot_interpretability_scores,
    plot_unit_gradients,
    show_class,
    show_unit,
    tiled_templates,
    to_rgb,
    unit_diversity,
    unit_gradients,
    unit_usage,
)


def test_unit_gradients_of_a_linear_map_are_its_rows():
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(1), nn.Linear(3 * 4 * 4, 5))
    x = torch.randn(6, 3, 4, 4)
    g = unit_gradients(lin, x)  # (6, 5, 3, 4, 4)
    assert g.shape == (6, 5, 3, 4, 4)
    rows = lin[1].weight.view(5, 3, 4, 4)
    assert torch.allclose(g, rows.expand(6, 5, 3, 4, 4), atol=1e-6)
    assert torch.allclose(unit_gradients(lin, x, units=[4, 1]), rows[[4, 1]].expand(6, 2, 3, 4, 4), atol=1e-6)


def test_input_gradients_match_per_sample_autograd_and_restore_train_mode():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.GELU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(1),
                        nn.Linear(4, 3))
    net(torch.randn(8, 3, 8, 8))  # BatchNorm running statistics
    net.train()
    x = torch.randn(5, 3, 8, 8)
    g = input_gradients(net, x)
    assert net.training  # restored
    net.eval()
    for n in (0, 3):  # reference: one sample, one class at a time
        for c in range(3):
            xi = x[n:n + 1].clone().requires_grad_(True)
            (ref,) = torch.autograd.grad(net(xi)[0, c], xi)
            assert torch.allclose(g[n, c], ref[0], atol=1e-5)
    chunked = unit_gradients(net, x, max_rows=6)  # one unit per pass
    assert torch.allclose(chunked, g, atol=1e-6)


def test_noise_gradients_shape_and_seed():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    a = noise_gradients(net, n_samples=4, shape=(3, 10, 10), seed=5)
    b = noise_gradients(net, n_samples=4, shape=(3, 10, 10), seed=5)
    assert a.shape == (4, 2, 3, 10, 10) and torch.equal(a, b)
    # a linear unit has the same gradient on every input: perfectly stable
    assert torch.allclose(gradient_stability(a), torch.ones(2), atol=1e-5)


def test_gradient_stability_known_answers():
    e = torch.eye(4)
    same = e[0].expand(5, 1, 4)  # (S=5, U=1, 4): the same direction on every sample
    assert gradient_stability(same).item() == pytest.approx(1.0)
    opposite = torch.stack([e[0], -e[0]])[:, None]  # (2, 1, 4)
    assert gradient_stability(opposite).item() == pytest.approx(-1.0)
    orthogonal = e[:3][:, None]  # three orthogonal samples
    assert gradient_stability(orthogonal).item() == pytest.approx(0.0)
    # two same + one orthogonal: pairs (6 ordered): 2 with cos 1, 4 with cos 0 -> 1/3
    mixed = torch.stack([e[0], 3 * e[0], e[1]])[:, None]
    assert gradient_stability(mixed).item() == pytest.approx(1 / 3)
    zero = torch.zeros(3, 1, 4)  # a dead unit is not stable
    assert gradient_stability(zero).item() == 0.0
    assert gradient_stability(torch.cat([same[:3], zero], 1)).tolist() == pytest.approx([1.0, 0.0])
    with pytest.raises(ValueError, match="S >= 2"):
        gradient_stability(torch.randn(1, 3, 4))


def test_class_specificity_known_answers():
    e = torch.eye(3)
    g = torch.stack([
        torch.stack([e[0], e[0]]),       # identical: 0
        torch.stack([e[0], -2 * e[0]]),  # opposite: 2
        torch.stack([e[0], e[1]]),       # orthogonal: 1
    ])  # (N=3, K=2, 3)
    assert class_specificity(g).tolist() == pytest.approx([0.0, 2.0, 1.0])
    three = torch.stack([e[0], e[0], e[1]])[None]  # pairs: 0, 1, 1 -> 2/3
    assert class_specificity(three).item() == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="K >= 2"):
        class_specificity(torch.randn(3, 1, 4))


def test_to_rgb_and_normalisation():
    g = torch.tensor([-2.0, 0.0, 2.0, 1.0]).view(1, 1, 2, 2).expand(2, 3, 2, 2).clone()
    g[1] *= 10
    rgb = to_rgb(g)
    assert rgb.min() == 0 and rgb.max() == 1 and torch.allclose(rgb[0], rgb[1])  # per-image scale
    sym = to_rgb(g, "symmetric")
    assert sym[0, 0, 0, 1] == 0.5 and sym[0, 0, 0, 0] == 0.0 and sym[0, 0, 1, 0] == 1.0
    assert torch.equal(to_rgb(torch.zeros(1, 3, 2, 2)), torch.full((1, 3, 2, 2), 0.5))
    with pytest.raises(ValueError, match="mode"):
        to_rgb(g, "log")
    images = torch.randint(0, 256, (4, 3, 5, 5), dtype=torch.uint8)
    assert torch.allclose(cifar_denormalize(cifar_normalize(images)), images.float() / 255, atol=1e-6)


def test_plots_and_widget_views_draw():
    torch.manual_seed(3)
    figs = [
        plot_filter_grid(torch.randn(12, 3, 10, 10), ncols=6, group=3),
        plot_gradient_grid(torch.rand(4, 3, 8, 8), torch.randn(4, 2, 3, 8, 8), ["plane", "car"],
                           labels=torch.tensor([0, 1, 0, 1]), predictions=torch.tensor([0, 0, 0, 1])),
        plot_unit_gradients(torch.randn(30, 3, 8, 8), ncols=10),
        plot_unit_gradients(torch.randn(3, 3, 8, 8), ncols=3, titles=["a", "b", "c"]),
        plot_interpretability_scores({"stability": {"a": torch.rand(10), "b": torch.rand(10)}}),
        plot_accuracy_table([dict(name="x", mean=0.9, std=0.01, claim=0.94), dict(name="y", mean=0.8, std=float("nan"))]),
        show_unit({"m": torch.randn(5, 4, 3, 8, 8)}, "m", unit=2, n_samples=3),
        show_class({"m": torch.randn(6, 2, 3, 8, 8)}, torch.rand(6, 3, 8, 8), ["a", "b"], "m", first=2, count=3),
    ]
    assert all(f.axes for f in figs)
    plt.close("all")
    with pytest.raises(IndexError, match="unit 9"):
        show_unit({"m": torch.randn(5, 4, 3, 8, 8)}, "m", unit=9)
    with pytest.raises(ValueError, match="filters"):
        plot_filter_grid(torch.randn(4, 1, 3, 3))


def test_unit_usage_known_answer():
    f = torch.tensor([
        [5.0, 1.0, 0.0, 0.0, 2.0, 9.0],
        [4.0, 0.0, 0.0, 0.0, 3.0, 1.0],
        [0.0, 0.0, 7.0, 0.0, 0.0, 8.0],
    ])  # 2 groups of 3: group 0 winners {0, 0, 2}, group 1 winners {2, 1, 2}
    assert unit_usage(f, 2).tolist() == pytest.approx([2 / 3, 2 / 3])
    with pytest.raises(ValueError, match="groups"):
        unit_usage(f, 4)


def test_tiled_templates_place_weighted_filters():
    filters = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    w = torch.zeros(1, 2, 2, 2)
    w[0, 1, 0, 1] = 2.0   # top-right tile: 2 x filter 1
    w[0, 0, 1, 0] = -1.0  # bottom-left tile: -filter 0
    t = tiled_templates(w, filters)
    assert t.shape == (1, 3, 4, 4)
    assert torch.equal(t[0, :, 0:2, 2:4], 2 * filters[1]) and torch.equal(t[0, :, 2:4, 0:2], -filters[0])
    assert torch.equal(t[0, :, 0:2, 0:2], torch.zeros(3, 2, 2))


def test_unit_diversity_known_answers():
    e = torch.eye(4)
    assert unit_diversity(e).tolist() == pytest.approx([1.0] * 4)  # orthogonal pictures
    assert unit_diversity(torch.stack([e[0], 2 * e[0], e[0]])).tolist() == pytest.approx([0.0] * 3)  # one picture
    # units 0, 1 alike, unit 2 opposite to both: cosines (0,1)=1, (0,2)=-1, (1,2)=-1
    d = unit_diversity(torch.stack([e[0], e[0], -e[0]]))
    assert d.tolist() == pytest.approx([1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="U >= 2"):
        unit_diversity(torch.randn(1, 4))
