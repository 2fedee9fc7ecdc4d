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


def class_grid(n: int | None, classes: int, nrow: int | None = None, cap: int | None = None,
               default_cols: int = 8) -> tuple[int, int, int]:
    """(images to draw, columns, images in the grid) for a grid with one row per class (or code value).

    Rows are classes, so the columns are --nrow, else ceil(n / classes) (default_cols when n is None),
    and n is rounded up to a multiple of the classes. cap (with --individual): the grid shows about
    this many of n images, whole rows only, while all n are drawn."""
    shown = n if cap is None or n is None else min(n, cap)
    cols = nrow or (default_cols if n is None else max(1, math.ceil(shown / classes)))
    if cap is not None and n is not None and nrow is None and classes * cols > cap:
        cols = max(1, cap // classes)
    grid = classes * cols
    total = grid if n is None or cap is None else max(math.ceil(n / classes) * classes, grid)
    return total, cols, grid


def class_grid_note(asked: int | None, total: int, classes: int, cols: int, what: str = "class") -> str | None:
    """The line that says how -n changed for a one-row-per-class grid (None when it did not)."""
    if asked == total:
        return None
    was = "no -n" if asked is None else f"-n {asked}"
    return f"one row per {what}: {classes} rows of {cols} = {total} images ({was})"


def label_rows(grid: np.ndarray, labels: list[str], row_height: int, top: int = 0) -> np.ndarray:
    """A white margin left of `grid` (H, W, C) uint8 with labels[r] beside row r (rows of row_height
    pixels from `top`), in PIL's default font."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((0, 0), text, font=font) for text in labels]
    margin = max(b[2] - b[0] for b in boxes) + 8
    canvas = Image.new("L" if grid.shape[2] == 1 else "RGB", (margin + grid.shape[1], grid.shape[0]),
                       255 if grid.shape[2] == 1 else (255, 255, 255))
    canvas.paste(Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid), (margin, 0))
    draw = ImageDraw.Draw(canvas)
    for r, (text, box) in enumerate(zip(labels, boxes)):
        y = top + r * row_height + (row_height - (box[3] - box[1])) // 2 - box[1]
        draw.text((4, y), text, fill=0, font=font)
    out = np.asarray(canvas)
    return out[..., None] if out.ndim == 2 else out


def save_grid(images: torch.Tensor, path, nrow: int | None = None, upscale: int | None = None,
              row_labels: list[str] | None = None) -> Path:
    """Save a grid PNG; small images are upscaled (nearest) so a 28 px digit stays visible.
    row_labels: a text beside each row (e.g. LAPGAN's level sides)."""
    from PIL import Image

    if upscale is None:
        upscale = max(1, 64 // images.shape[-1])
    from ..files import save_pil

    grid = make_grid(images, nrow, upscale=upscale)
    if row_labels:
        grid = label_rows(grid, row_labels, (images.shape[-2] + 2) * upscale, 2 * upscale)
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
