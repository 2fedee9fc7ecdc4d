"""Paired data for super-resolution, made on the fly: random high-resolution (HR) crops of any
image set, and their low-resolution (LR) versions by antialiased bicubic downscaling.

Sources (the --data / --eval-data of `ganforge train sr`):
    photos          the embedded photos: training on the left 75% of each, held out the right
                    25% (the split photo2vintage uses)
    mnist5k, ...    any named image dataset of ganforge (train split; held out: its test split),
                    as RGB
    folder:PATH     every image under PATH at its own resolution (no resizing)

Images are kept as uint8 (3, H, W) tensors of their own sizes; LR images are uint8 too, as an
LR file would be (the bicubic result rounded), so training, evaluation and `ganforge upscale`
see the same kind of input.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from .images import builtin_photos, load_images, read_folder, read_image

PHOTOS = "photos"


def downscale(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """uint8 (N, C, H, W), H and W multiples of scale -> uint8 (N, C, H/scale, W/scale), antialiased bicubic."""
    h, w = hr.shape[-2:]
    lr = F.interpolate(hr.float(), size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True)
    return lr.round().clamp(0, 255).to(torch.uint8)


def bicubic(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """uint8 (N, C, h, w) -> uint8 (N, C, scale*h, scale*w): the bicubic baseline."""
    up = F.interpolate(lr.float(), scale_factor=scale, mode="bicubic", align_corners=False)
    return up.round().clamp(0, 255).to(torch.uint8)


def mod_crop(img: torch.Tensor, scale: int) -> torch.Tensor:
    """Cut (..., H, W) down to sides that are multiples of scale (the SR benchmarks' convention)."""
    h, w = img.shape[-2:]
    return img[..., :h - h % scale, :w - w % scale]


def _split_photos(test: bool) -> list[torch.Tensor]:
    """The embedded photos as uint8 (3, H, W): the left 75% (train) or the right 25% (held out)."""
    out = []
    for path in builtin_photos().values():
        img = torch.from_numpy(np.array(read_image(path, 3))).permute(2, 0, 1)
        cut = int(0.75 * img.shape[-1])
        out.append((img[..., cut:] if test else img[..., :cut]).contiguous())
    return out


def _folder(path: Path, strict: bool, min_side: int) -> list[torch.Tensor]:
    def read(p):
        img = read_image(p, 3)
        if min(img.size) < min_side:
            raise UserError(f"image {p} is {img.size[0]}x{img.size[1]}, smaller than {min_side} px")
        return torch.from_numpy(np.array(img)).permute(2, 0, 1).contiguous()

    return read_folder(path, read, strict)[1]


def load_sr_images(spec: str, split: str = "train", strict: bool = False, min_side: int = 1,
                   progress: bool = True) -> tuple[str, list[torch.Tensor] | torch.Tensor]:
    """(name, images) for SR: a uint8 (N, 3, H, W) tensor when all share one size, else a list of
    uint8 (3, H, W). split: train or test (see the module docstring); folders have one split."""
    if spec == PHOTOS:
        return f"{PHOTOS}-{'heldout' if split == 'test' else 'train'}", _split_photos(split == "test")
    if spec.startswith("folder:") or Path(spec).is_dir():
        path = Path(spec.removeprefix("folder:"))
        return f"folder:{path}", _folder(path, strict, min_side)
    data = load_images(spec, split, channels=3, strict=strict, progress=progress)
    return f"{data.name}-{split}", data.images


def smallest_side(images) -> int:
    if isinstance(images, torch.Tensor):
        return min(images.shape[-2:])
    return min(min(img.shape[-2:]) for img in images)


def random_crops(images, n: int, size: int, g: torch.Generator, flip: bool = True) -> torch.Tensor:
    """n random size x size crops (one random image each), uint8 (n, 3, size, size); with flip, each
    also takes one of the 8 flips / quarter turns of the square (EDSR's augmentation: a few photos
    give 8x the views)."""
    count = images.shape[0] if isinstance(images, torch.Tensor) else len(images)
    idx = torch.randint(0, count, (n,), generator=g)
    out = []
    for i in idx.tolist():
        img = images[i]
        h, w = img.shape[-2:]
        top = int(torch.randint(0, h - size + 1, (1,), generator=g))
        left = int(torch.randint(0, w - size + 1, (1,), generator=g))
        crop = img[:, top:top + size, left:left + size]
        if flip:
            k = int(torch.randint(0, 8, (1,), generator=g))
            crop = torch.rot90(crop.flip(-1) if k >= 4 else crop, k % 4, (-2, -1))
        out.append(crop)
    return torch.stack(out)
