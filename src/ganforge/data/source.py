"""Which path image data takes to the training loop, and why:

    in-memory   decoded once into one uint8 tensor (MNIST, CIFAR-10, folders that fit the budget)
    streaming   a folder whose decoded images exceed --data-memory (or any folder with --stream):
                listed once into a cached index (data.index), decoded per batch by DataLoader workers
    packed      `--data packed:DIR` (data.packed): memory-mapped shards, shared through the page cache

All three give the same batches for the same seed: the sampler picks indices, every path decodes
with the same function, and crops / flips happen after, on the uint8 batch (data.batches).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..resources import available_memory, human
from .images import ImageData, list_images, read_folder

AUTO_SHARE = 0.25   # of the available memory, split between the processes of a torchrun on this machine


def memory_budget(gb: float) -> float:
    """Bytes a decoded dataset may take in this process: --data-memory GB, or (0) the automatic share."""
    if gb > 0:
        return gb * 1e9
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    return AUTO_SHARE * available_memory() / local


def route(n: int, image_bytes: int, memory: float, stream: bool) -> tuple[bool, str]:
    """(stream?, why) for n images of image_bytes each, decoded."""
    need, budget = n * image_bytes, memory_budget(memory)
    limit = (f"--data-memory {memory:g} GB" if memory > 0 else
             f"the automatic budget of {human(budget)} (a quarter of the available memory; set --data-memory)")
    size = f"{n:,} images take {human(need)} decoded"
    if stream:
        return True, f"--stream ({size})"
    if need > budget:
        return True, f"{size}, more than {limit}"
    return False, f"{size}, within {limit}"


def open_image_source(spec: str, channels: int, size: int, strict: bool = False, progress: bool = True,
                      memory: float = 0.0, stream: bool = False) -> ImageData:
    """folder:PATH (in memory or streaming, by route) or packed:DIR, at channels x size x size
    (folders: default 3 x 64; packed: 0 keeps the packed shape)."""
    from .index import decode_square, folder_labels, index_folder

    kind, _, arg = spec.partition(":")
    if kind == "packed":
        from .packed import open_packed

        return open_packed(Path(arg), channels, size)
    folder, channels, size = Path(arg), channels or 3, size or 64
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist")
    paths = list_images(folder)
    lazy, why = route(len(paths), channels * size * size, memory, stream)
    name = f"folder:{folder}"
    if lazy:
        from .lazy import StreamImages

        idx = index_folder(folder, channels, strict=strict, progress=progress, paths=paths)
        why = _counted(why, len(idx.paths), len(paths), channels * size * size)
        labels = None if idx.labels is None else torch.tensor(idx.labels, dtype=torch.int64)
        return ImageData(name, StreamImages(idx.paths, channels, size), labels, idx.classes, "streaming", why)
    good, arrays = read_folder(folder, lambda p: decode_square(p, channels, size), strict, paths)
    why = _counted(why, len(good), len(paths), channels * size * size)
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    labels, classes = folder_labels(folder, good)
    labels = None if labels is None else torch.tensor(labels, dtype=torch.int64)
    return ImageData(name, images, labels, classes, "in-memory", why)


def _counted(why: str, good: int, listed: int, image_bytes: int) -> str:
    """The data line counts the images that train: the route was chosen from the files listed, before
    the unreadable ones were skipped."""
    if good == listed:
        return why
    was, now = (f"{n:,} images take {human(n * image_bytes)}" for n in (listed, good))
    return f"{why.replace(was, now)}; {listed - good} unreadable file(s) skipped"


def take(images, key):
    """images[key] for a tensor; a lazy view for streaming / packed images (nothing read yet)."""
    return images[key] if isinstance(images, torch.Tensor) else images.subset(key)

