"""ipywidgets front-ends. Each widget wraps a pure plotting function that notebooks also
call once with defaults, so a headless run (nbval, nbconvert) still draws the figure."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch

from .inspect.plots import plot_feature_maps, plot_model_comparison


def show_feature_maps(
    activations: Mapping[str, torch.Tensor],
    layer: str,
    channels: tuple[int, int] = (0, 16),
    timestep: int = 0,
    sequence: int = 0,
    seq_len: int = 1,
):
    """Channel maps ``channels[0]..channels[1]-1`` of ``layer`` at one frame.

    Args:
        activations: name -> (B*T, C, H, W) frames (T = ``seq_len``; 1 for images).
        sequence, timestep: which sequence and frame (sample index sequence*seq_len+timestep).
    """
    act = activations[layer]
    sample = sequence * seq_len + timestep
    if not 0 <= sample < act.shape[0]:
        raise IndexError(f"sequence {sequence}, timestep {timestep} outside {act.shape[0]} recorded frames")
    lo, hi = channels
    hi = min(hi, act.shape[1])
    fig = plot_feature_maps(act, channels=range(lo, hi), sample=sample,
                            title=f"{layer}: channels {lo}-{hi - 1}, sequence {sequence}, t={timestep}")
    return fig


def feature_browser(activations: Mapping[str, torch.Tensor], seq_len: int = 1, sequences: int = 1):
    """Dropdown for the layer, a channel-range slider and a timestep slider."""
    import ipywidgets as w

    layers = list(activations)
    max_c = max(a.shape[1] for a in activations.values())

    def view(layer, channels, timestep, sequence):
        show_feature_maps(activations, layer, channels, timestep, sequence, seq_len)
        plt.show()

    return w.interactive(
        view,
        layer=w.Dropdown(options=layers, value=layers[0], description="layer"),
        channels=w.IntRangeSlider(value=(0, 16), min=0, max=max_c, step=1, description="channels"),
        timestep=w.IntSlider(value=0, min=0, max=max(seq_len - 1, 0), description="timestep"),
        sequence=w.IntSlider(value=0, min=0, max=max(sequences - 1, 0), description="sequence"),
    )


def comparison_browser(before: Mapping[str, torch.Tensor], after: Mapping[str, torch.Tensor], labels=("before", "after")):
    """Pick a layer and a frame (or the mean over frames) to compare two checkpoints."""
    import ipywidgets as w

    layers = [n for n in before if n in after]
    n_frames = min(before[layers[0]].shape[0], after[layers[0]].shape[0])

    def view(layer, frame):
        plot_model_comparison(before[layer], after[layer], layer, labels, sample=None if frame < 0 else frame)
        plt.show()

    return w.interactive(
        view,
        layer=w.Dropdown(options=layers, value=layers[-1], description="layer"),
        frame=w.IntSlider(value=-1, min=-1, max=n_frames - 1, description="frame (-1: mean)"),
    )
