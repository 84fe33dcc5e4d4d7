"""The same known answers on every available device (CPU here; CUDA too where one exists)."""
import pytest
import torch

from nblib.data import GpuBatchLoader, LabelledImages, render_dsprites
from nblib.data.dsprites import grid_factors
from nblib.inspect import ChannelAccumulator, channel_entropy, channel_stats, count_hooks, run_with_cache, spatial_diversity
from nblib.models import FrameResNet18

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("dev", DEVICES)
def test_render_matches_cpu(dev):
    f = grid_factors(0, 737_280)[::997]  # a spread of the whole factor grid
    assert torch.equal(render_dsprites(f.to(dev)).cpu(), render_dsprites(f))


@pytest.mark.parametrize("dev", DEVICES)
def test_loader_stays_on_device_and_is_reproducible(dev):
    data = LabelledImages(torch.randint(0, 256, (64, 3, 8, 8), dtype=torch.uint8), torch.arange(64), "t")
    a = [x for x, _ in GpuBatchLoader(data, 16, device=dev, seed=5)]
    b = [x for x, _ in GpuBatchLoader(data, 16, device=dev, seed=5)]
    assert all(x.device.type == dev for x in a) and all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("dev", DEVICES)
def test_statistics_agree_across_devices(dev):
    torch.manual_seed(0)
    x = torch.relu(torch.randn(6, 16, 9, 9))
    assert torch.allclose(spatial_diversity(x.to(dev)).cpu(), spatial_diversity(x), atol=1e-5)
    assert torch.allclose(channel_entropy(x.to(dev)).cpu(), channel_entropy(x), atol=1e-5)
    acc = ChannelAccumulator()
    for chunk in x.to(dev).split(2):
        acc.update(chunk)
    assert torch.allclose(acc.result()["mean"].cpu(), channel_stats(x)["mean"], atol=1e-6)


@pytest.mark.parametrize("dev", DEVICES)
def test_inspector_with_backward_on_device(dev):
    torch.manual_seed(0)
    model = FrameResNet18().to(dev).eval()
    video = torch.rand(2, 3, 1, 32, 32, device=dev)
    out, cache = run_with_cache(model, video, names_filter=["bn1", "layer2"], backward=True, seq_len=3, timestep=1)
    assert cache["layer2"].device.type == dev and cache["layer2"].shape[0] == 2
    assert cache.grads["bn1"].shape == cache["bn1"].shape
    assert count_hooks(model) == 0
