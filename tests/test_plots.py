"""Every plot builds from tensors of the documented shapes (and rejects wrong ones)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nblib.inspect import plots  # noqa: E402
from nblib.widgets import show_feature_maps  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_all_plots_on_maps_and_vectors():
    torch.manual_seed(0)
    maps = torch.relu(torch.randn(4, 12, 8, 8))
    maps[:, 3] = 0
    vec = torch.relu(torch.randn(16, 10))
    assert len(plots.plot_feature_maps(maps, channels=range(10), ncols=5).axes) == 10 + 1  # + colorbar
    assert len(plots.plot_distribution(maps, "m").axes) == 3
    fig = plots.plot_channel_stats(maps, "m")
    assert "1 of 12 channels dead" in fig._suptitle.get_text()
    assert len(plots.plot_spatial_patterns(maps, "m").axes) == 8  # 4 panels + 4 colorbars
    assert plots.plot_spatial_similarity(maps, "m").axes[0].images[0].get_array().shape == (64, 64)
    assert len(plots.plot_layer_comparison({"maps": maps, "vec": vec}).axes) == 6
    assert len(plots.plot_model_comparison(maps, maps * 2, "m", ("a", "b")).axes) >= 4
    plots.plot_feature_maps(vec[:, :, None])  # (N, C, L) draws as 1-row maps
    plots.plot_distribution(vec, "v")
    plots.plot_channel_stats(vec, "v")


def test_plot_errors():
    with pytest.raises(IndexError, match="out of range"):
        plots.plot_feature_maps(torch.rand(1, 4, 3, 3), channels=[7])
    with pytest.raises(ValueError, match="spatial"):
        plots.plot_spatial_patterns(torch.rand(4, 5), "fc")
    with pytest.raises(ValueError, match="shapes differ"):
        plots.plot_model_comparison(torch.rand(1, 4, 3, 3), torch.rand(1, 5, 3, 3))


def test_show_feature_maps_indexes_sequence_and_timestep():
    acts = {"l": torch.arange(2 * 3 * 4 * 2 * 2, dtype=torch.float32).view(6, 4, 2, 2)}  # B=2, T=3
    fig = show_feature_maps(acts, "l", channels=(0, 2), timestep=2, sequence=1, seq_len=3)
    shown = fig.axes[0].images[0].get_array()
    assert torch.equal(torch.as_tensor(shown.data), acts["l"][5, 0])
    with pytest.raises(IndexError):
        show_feature_maps(acts, "l", timestep=3, sequence=1, seq_len=3)
