"""Paired data for super-resolution, made on the fly: random high-resolution (HR) crops of any
image set, and their low-resolution (LR) versions by antialiased bicubic downscaling.

Sources (the --data / --eval-data of `ganforge train sr`):
    photos          the embedded photos: training on the left 75% of each, held out the right
                    25% (the split photo2vintage uses)
    mnist5k, ...    any named image dataset of ganforge (train split; held out: its test split),
                    as RGB
    folder:PATH     every image under PATH at its own resolution (no resizing), in memory; a
                    folder whose decoded images exceed --data-memory (or any with --stream)
                    streams instead: decoded per batch at --stream-size (data.source's paths)
    packed:DIR      a `ganforge pack` folder, memory-mapped, at its packed size (or --stream-size)

In-memory images are uint8 (3, H, W) tensors of their own sizes; streamed and packed ones are
squares of one size, read per batch (data.batches) and cropped after. LR images are uint8 too, as
an LR file would be (the bicubic result rounded), so training, evaluation and `ganforge upscale`
see the same kind of input.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from .datasets import load_images
from .images import ImageData, builtin_photos, read_folder, read_image

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


def _folder(path: Path, strict: bool, min_side: int, memory: float, stream: bool, size: int,
            progress: bool) -> ImageData:
    """folder:PATH in memory at the images' own sizes, or streamed at size x size (data.source.route
    on the decoded own-size bytes the index's headers give)."""
    from .index import index_folder
    from .source import route

    def check(p, w, h):
        if min(w, h) < min_side:
            raise UserError(f"image {p} is {w}x{h}, smaller than {min_side} px")

    idx = index_folder(path, 3, check, strict, progress)
    need = sum(3 * w * h for w, h in idx.sizes)
    lazy, why = route(len(idx.paths), need // max(1, len(idx.paths)), memory, stream)
    if lazy:
        from .lazy import StreamImages

        # default: 2 x the crop, but never past the smallest short side (upscaled HR would teach blur)
        size = size or max(min_side, min(2 * min_side, *(min(wh) for wh in idx.sizes)))

        return ImageData(f"folder:{path}", StreamImages(idx.paths, 3, size), source="streaming",
                         why=f"{why}; decoded at {size}x{size}, short side scaled, centre square")

    def read(p):
        return torch.from_numpy(np.array(read_image(p, 3))).permute(2, 0, 1).contiguous()

    return ImageData(f"folder:{path}", read_folder(path, read, strict, idx.paths)[1], why=why + ", own sizes")


def load_sr_images(spec: str, split: str = "train", strict: bool = False, min_side: int = 1,
                   progress: bool = True, memory: float = 0.0, stream: bool = False,
                   stream_size: int = 0) -> ImageData:
    """ImageData for SR whose .images are a uint8 (N, 3, H, W) tensor when all share one size, a list
    of uint8 (3, H, W), or (streamed folder / packed:DIR) a lazy (N, 3, S, S) array read per batch.
    split: train or test (see the module docstring); folders have one split. stream_size: S of a
    streamed folder (0: 2 * min_side, at most the smallest short side) or of packed:DIR (0: as packed)."""
    if spec == PHOTOS:
        return ImageData(f"{PHOTOS}-{'heldout' if split == 'test' else 'train'}", _split_photos(split == "test"),
                         why="the embedded photos, own sizes")
    if spec.startswith("packed:"):
        if split == "test":
            raise UserError(f"--eval-data {spec}: held-out images are scored whole, at their own sizes; "
                            "pass folder:PATH")
        return load_images(spec, channels=3, size=stream_size)
    if spec.startswith("folder:") or Path(spec).is_dir():
        path = Path(spec.removeprefix("folder:"))
        return _folder(path, strict, min_side, memory, stream, stream_size, progress)
    data = load_images(spec, split, channels=3, strict=strict, progress=progress)
    data.name = f"{data.name}-{split}"
    return data


def smallest_side(images) -> int:
    if not isinstance(images, list):   # a tensor or a lazy (streamed / packed) array
        return min(images.shape[-2:])
    return min(min(img.shape[-2:]) for img in images)


def pick(count: int, n: int, g: torch.Generator) -> torch.Tensor:
    """n random image indices (LongTensor (n,)) of count: random_crops' first draw from g."""
    return torch.randint(0, count, (n,), generator=g)


def random_crops(images, n: int, size: int, g: torch.Generator, flip: bool = True) -> torch.Tensor:
    """n random size x size crops (one random image each, pick()), uint8 (n, 3, size, size)."""
    count = images.shape[0] if isinstance(images, torch.Tensor) else len(images)
    return crop_each([images[i] for i in pick(count, n, g).tolist()], size, g, flip)


def crop_each(images, size: int, g: torch.Generator, flip: bool = True) -> torch.Tensor:
    """One random size x size crop of each uint8 (3, H, W) of images -> uint8 (n, 3, size, size); with
    flip, each also takes one of the 8 flips / quarter turns of the square (EDSR's augmentation: a
    few photos give 8x the views)."""
    out = []
    for img in images:
        h, w = img.shape[-2:]
        top = int(torch.randint(0, h - size + 1, (1,), generator=g))
        left = int(torch.randint(0, w - size + 1, (1,), generator=g))
        crop = img[:, top:top + size, left:left + size]
        if flip:
            k = int(torch.randint(0, 8, (1,), generator=g))
            crop = torch.rot90(crop.flip(-1) if k >= 4 else crop, k % 4, (-2, -1))
        out.append(crop)
    return torch.stack(out)


class CropSampler:
    """indices(step) -> the images of step's batch, the same draw SRObjective.pair makes first: a
    pure function of (seed, step, rank) for data.batches.Batches (streamed / packed images)."""

    def __init__(self, count: int, n: int, seed: int, rank: int):
        self.count, self.n, self.seed, self.rank = count, n, seed, rank

    def generator(self, step: int) -> torch.Generator:
        return crop_generator(self.seed, step, self.rank)

    def indices(self, step: int) -> torch.Tensor:
        return pick(self.count, self.n, self.generator(step))


def crop_generator(seed: int, step: int, rank: int) -> torch.Generator:
    """The generator of one step's crops: a pure function of (seed, step, rank), so a resumed run
    sees the same batches."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step + 7919 * rank)
