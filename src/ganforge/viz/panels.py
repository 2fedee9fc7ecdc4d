"""Labelled image panels: rows of samples (CycleGAN and SR snapshots) and the full-resolution
before/after panel of the shipped photos. Images are float (N, 3, H, W) in [-1, 1] unless noted."""
from __future__ import annotations

import torch

from ..data import to_float


def save_panel(rows: list[tuple[str, torch.Tensor]], path) -> None:
    """One labelled row per (label, (n, 3, H, W) in [-1, 1]) pair, upscaled to >= 96 px cells."""
    from PIL import Image, ImageDraw

    from . import make_grid

    h = rows[0][1].shape[-1]
    up = max(1, -(-96 // h))
    grids = [make_grid(x, nrow=x.shape[0], upscale=up) for _, x in rows]
    label_w, row_h = 70, grids[0].shape[0]
    panel = Image.new("RGB", (label_w + grids[0].shape[1], row_h * len(rows)), "white")
    draw = ImageDraw.Draw(panel)
    for i, ((label, _), grid) in enumerate(zip(rows, grids)):
        panel.paste(Image.fromarray(grid), (label_w, i * row_h))
        draw.text((4, i * row_h + row_h // 2 - 6), label, fill="black")
    panel.save(path)


@torch.no_grad()
def photo_panel(G, F, path, tile: int | None = None) -> None:
    """Before/after at full resolution on the held-out part of every shipped photo: for A -> B the
    columns input, G(input), true vintage, then for B -> A vintage input, F(input), true photo.
    G and F: (N, 3, H, W) -> (N, 3, H, W) callables on [-1, 1] images, sides multiples of 4."""
    from PIL import Image, ImageDraw

    from ..data import to_uint8
    from ..data.unpaired import held_out_photos, vintage

    groups = []
    for name, photo in held_out_photos().items():
        h, w = photo.shape[-2:]
        photo = photo[..., :h - h % 4, :w - w % 4]
        graded = vintage(photo)
        groups.append([(f"{name}", photo), ("G(x)", to_uint8(G(to_float(photo)))), ("true", graded),
                       ("vintage", graded), ("F(y)", to_uint8(F(to_float(graded)))), ("true", photo)])
    gap, top = 6, 16
    widths = [g[0][1].shape[-1] for g in groups]
    height = max(g[0][1].shape[-2] for g in groups)
    panel = Image.new("RGB", (sum(6 * (w + gap) + 3 * gap for w in widths), height + top), "white")
    draw, x = ImageDraw.Draw(panel), 0
    for group, w in zip(groups, widths):
        for k, (label, img) in enumerate(group):
            panel.paste(Image.fromarray(img[0].permute(1, 2, 0).numpy()), (x, top))
            draw.text((x + 2, 2), label, fill="black")
            x += w + gap + (3 * gap if k == 2 else 0)
        x += 3 * gap
    panel.save(path)
