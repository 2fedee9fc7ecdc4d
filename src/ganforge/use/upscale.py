"""An sr checkpoint applied to files: one image or a whole folder upscaled (names and sub-folders
kept), any size, in overlapping tiles so that memory stays bounded and no seams show."""
from __future__ import annotations

import numpy as np
import torch

from ..data import to_float
from ..errors import UserError
from .translate import image_targets, save_image, skip_or_raise

MAX_TILE = 4096


def upscale_paths(up, source, output, scale: int | None = None, tile: int | None = 128, strict: bool = False,
                  log=print) -> tuple[list, list]:
    """Upscale one image file or every image under a folder (recursively) into `output` with an
    Upscaler (tasks.sr). scale: must be the checkpoint's (None: take it). tile: side of the
    input part each pass keeps (None: whole images); an image no larger than the tile is one pass.
    Unreadable files are reported and skipped (strict: the first one is an error).
    Returns (written paths, [(path, error)])."""
    from ..data.images import read_image

    if not hasattr(up, "upscale"):
        raise UserError(f"{getattr(up, 'path', 'this checkpoint')} cannot upscale images: pass a checkpoint of "
                        "`ganforge train sr` (srresnet or srgan)")
    up.check_scale(scale)
    if tile is not None and not 8 <= tile <= MAX_TILE:
        raise UserError(f"--tile must be in 8..{MAX_TILE} input pixels, got {tile}")
    paths, targets = image_targets(source, output)
    written, failed = [], []
    for path, target in zip(paths, targets):
        try:
            img = read_image(path, 3)
        except UserError as e:
            skip_or_raise(e, path, strict, failed, log)
            continue
        lr = torch.from_numpy(np.array(img)).permute(2, 0, 1)[None]
        sr = up.upscale(lr, tile)
        try:
            save_image(to_float(sr[0]), target)
        except UserError as e:   # one unwritable name must not lose the rest of the folder
            skip_or_raise(e, target, strict, failed, log)
            continue
        written.append(target)
    return written, failed
