"""ipywidgets browsers over the pure plotting functions below (which notebooks also call once
with defaults, so a headless run still draws every figure)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

from .plots import plot_gradient_grid, plot_unit_gradients


def show_unit(noise_grads: Mapping[str, torch.Tensor], model: str, unit: int, n_samples: int = 8):
    """One unit of one model: its gradient on each noise sample and their mean.

    Args:
        noise_grads: model name -> (S, U, 3, H, W) noise gradients.
        model: which entry.
        unit: which unit (0..U-1).
        n_samples: how many of the S samples to draw next to the mean.
    """
    g = noise_grads[model]
    if not 0 <= unit < g.shape[1]:
        raise IndexError(f"unit {unit} outside 0..{g.shape[1] - 1} of {model!r}")
    s = min(n_samples, g.shape[0])
    panels = torch.cat([g[:, unit].mean(0, keepdim=True), g[:s, unit]])  # (1+s, 3, H, W)
    titles = ["mean"] + [f"noise {i}" for i in range(s)]
    return plot_unit_gradients(panels, ncols=len(titles), titles=titles,
                               title=f"{model}: unit {unit} on Gaussian noise")


def show_class(input_grads: Mapping[str, torch.Tensor], images: torch.Tensor, class_names: Sequence[str],
               model: str, first: int = 0, count: int = 10, labels: torch.Tensor | None = None):
    """Test images ``first .. first+count-1`` with one model's class-logit gradients below them.

    Args:
        input_grads: model name -> (N, K, 3, H, W) gradients.
        images: (N, 3, H, W) in [0, 1].
    """
    g = input_grads[model]
    last = min(first + count, g.shape[0])
    if not 0 <= first < last:
        raise IndexError(f"first={first} outside 0..{g.shape[0] - 1}")
    sl = slice(first, last)
    return plot_gradient_grid(images[sl], g[sl], class_names, labels[sl] if labels is not None else None,
                              title=f"{model}: input gradients of class logits, images {first}-{last - 1}")


def unit_browser(noise_grads: Mapping[str, torch.Tensor], n_samples: int = 8):
    """Dropdown for the model, a slider for the unit."""
    import ipywidgets as w

    names = list(noise_grads)
    max_u = max(g.shape[1] for g in noise_grads.values())

    def view(model, unit):
        show_unit(noise_grads, model, min(unit, noise_grads[model].shape[1] - 1), n_samples)
        plt.show()

    return w.interactive(view, model=w.Dropdown(options=names, value=names[0], description="model"),
                         unit=w.IntSlider(value=0, min=0, max=max_u - 1, description="unit"))


def class_browser(input_grads: Mapping[str, torch.Tensor], images: torch.Tensor, class_names: Sequence[str],
                  labels: torch.Tensor | None = None, count: int = 10):
    """Dropdown for the model, a slider for the first image shown."""
    import ipywidgets as w

    names = list(input_grads)
    n = images.shape[0]

    def view(model, first):
        show_class(input_grads, images, class_names, model, first, count, labels)
        plt.show()

    return w.interactive(view, model=w.Dropdown(options=names, value=names[0], description="model"),
                         first=w.IntSlider(value=0, min=0, max=max(n - count, 0), step=count, description="first image"))
