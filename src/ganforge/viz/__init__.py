"""Image grids (PIL only, fast) and training plots (matplotlib, imported lazily)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, upscale: int = 1) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> (rows*(H+pad)+pad, cols*(W+pad)+pad, C) uint8 grid."""
    from ..data import to_uint8

    x = to_uint8(images).permute(0, 2, 3, 1).numpy()
    n, h, w, c = x.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[top:top + h, left:left + w] = x[i]
    if upscale > 1:
        grid = grid.repeat(upscale, 0).repeat(upscale, 1)
    return grid


def save_grid(images: torch.Tensor, path, nrow: int | None = None, upscale: int | None = None) -> Path:
    """Save a grid PNG; small images are upscaled (nearest) so a 28 px digit stays visible."""
    from PIL import Image

    if upscale is None:
        upscale = max(1, 64 // images.shape[-1])
    from ..files import save_pil

    grid = make_grid(images, nrow, upscale=upscale)
    return save_pil(Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid), path)


def save_image(image: torch.Tensor, path) -> Path:
    """One (C, H, W) image in [-1, 1] to a file (format from the suffix)."""
    from PIL import Image

    from ..data import to_uint8

    from ..files import save_pil

    x = to_uint8(image[None])[0].permute(1, 2, 0).numpy()
    return save_pil(Image.fromarray(x[..., 0] if x.shape[2] == 1 else x), path)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def smooth(values, window: int) -> np.ndarray:
    """Trailing moving average (same length as values)."""
    v = np.asarray(values, float)
    if window <= 1 or len(v) < 2:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_gan_curves(stats: list[dict], path) -> Path:
    """Two panels: D and G loss; D accuracy on real and fake (raw, faint, and smoothed)."""
    plt = _plt()
    steps = [s["step"] for s in stats]
    window = max(1, len(stats) // 50)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        vals = [s[key] for s in stats]
        line, = a1.plot(steps, smooth(vals, window), label=label)
        a1.plot(steps, vals, alpha=0.15, color=line.get_color())
    a1.set(xlabel="step", ylabel="loss", title="losses")
    a1.legend()
    for key, label in (("d_acc_real", "D accuracy on real"), ("d_acc_fake", "D accuracy on fake")):
        a2.plot(steps, smooth([s[key] for s in stats], window), label=label)
    a2.set(xlabel="step", ylabel="accuracy", ylim=(-0.02, 1.02), title="discriminator accuracy")
    a2.axhline(0.5, color="gray", lw=0.5, ls="--")
    a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_curves(series: dict[str, tuple[list, list]], path, title: str = "", xlabel: str = "step",
                ylabel: str = "") -> Path:
    """Generic line plot: {label: (x, y)}."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (x, y) in series.items():
        ax.plot(x, y, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
