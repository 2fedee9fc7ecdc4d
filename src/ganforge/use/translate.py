"""A CycleGAN checkpoint applied to files: one image or a whole folder translated at each image's
own resolution (names and sub-folders kept). Exporting generators is ganforge.use.export."""
from __future__ import annotations

import torch
import torch.nn.functional as nnf

from ..data import to_float
from ..errors import UserError
from ..tasks.cyclegan import Translator


def _resized(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    if tuple(x.shape[-2:]) == (h, w):
        return x
    return nnf.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)


def image_targets(source, output) -> tuple[list, list]:
    """(input paths, output paths) for one image file or every image under a folder (recursively):
    a folder's names and sub-folders are kept under `output`; one image goes to `output` when it
    names an image file, else into it. Shared by translate and upscale."""
    from pathlib import Path

    from ..data.images import IMAGE_SUFFIXES, list_images

    source, output = Path(source), Path(output)
    blocker = next((p for p in (output, *output.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None and (source.is_dir() or blocker != output):
        raise UserError(f"cannot write into {output}: {blocker} is a file, not a folder")
    if source.is_dir():
        paths = list_images(source)
        if not paths:
            raise UserError(f"folder {source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return paths, [output / p.relative_to(source) for p in paths]
    if source.is_file():
        return [source], [output if output.suffix.lower() in IMAGE_SUFFIXES else output / source.name]
    raise UserError(f"input {source} does not exist")


def skip_or_raise(error: UserError, path, strict: bool, failed: list, log) -> None:
    """One file that cannot be read or written: raise under --strict, else record and report it."""
    if strict:
        raise error
    failed.append((path, str(error)))
    log(f"skipped: {error}")


def translate_paths(tr: Translator, source, output, direction: str = "AtoB", batch_size: int = 8,
                    size: int | None = None, strict: bool = False, log=print,
                    tile: int | None = None) -> tuple[list, list]:
    """Translate one image file or every image under a folder (recursively) into `output`.

    Each image is translated at its own resolution (the nets are fully convolutional; sides are
    padded to a multiple of 4 and cropped back), in tile x tile parts when `tile` is given. With
    `size`, it is first scaled so its short side is `size`, keeping its aspect ratio, and the
    result is scaled back to its own size. Names and sub-folders are kept. Returns (written paths,
    [(path, error)]).
    """
    from pathlib import Path

    import numpy as np

    from ..data.images import read_image

    tr.generator(direction)
    source, output = Path(source), Path(output)
    if (size is not None and size < 4) or batch_size < 1:
        raise UserError(f"--size must be >= 4 and --batch-size >= 1, got {size} and {batch_size}")
    if tile is not None and (tile < 4 or tile % 4):
        raise UserError(f"--tile must be a positive multiple of 4, got {tile}")
    paths, targets = image_targets(source, output)
    written, failed = [], []
    for i in range(0, len(paths), batch_size):
        groups: dict[tuple, list] = {}   # net input shape -> [(target, image, original size)]
        for path, target in zip(paths[i:i + batch_size], targets[i:i + batch_size]):
            try:
                img = read_image(path, 3)
                if size is None and min(img.size) < 8:   # two stride-2 layers, then reflection padding
                    raise UserError(f"image {path} is {img.size[0]}x{img.size[1]}: the generator needs at least 8 px "
                                    "a side (--size 64 scales it up)")
            except UserError as e:
                skip_or_raise(e, path, strict, failed, log)
                continue
            x = to_float(torch.from_numpy(np.array(img)).permute(2, 0, 1)[None])
            h, w = x.shape[-2:]
            if size is None:
                shape = (h, w)   # own resolution: translate() pads to a multiple of 4 and crops back
            else:
                s = size / min(h, w)
                shape = (max(4, round(h * s / 4) * 4), max(4, round(w * s / 4) * 4))
            groups.setdefault(shape, []).append((target, _resized(x, *shape), (h, w)))
        for shape, items in groups.items():
            y = tr.translate(torch.cat([it[1] for it in items]), direction, tile=tile)
            for (target, _, (h, w)), img in zip(items, y):
                try:
                    save_image(_resized(img[None], h, w)[0], target)
                except UserError as e:   # one unwritable name must not lose the rest of the folder
                    skip_or_raise(e, target, strict, failed, log)
                    continue
                written.append(target)
    return written, failed


def save_image(image: torch.Tensor, path) -> None:
    """(3, H, W) in [-1, 1] -> an image file (JPEG quality 95), atomically."""
    from PIL import Image

    from ..data import to_uint8

    from ..files import save_pil

    arr = to_uint8(image[None])[0].permute(1, 2, 0).numpy()   # save_pil: temp file + rename, never through a link
    save_pil(Image.fromarray(arr), path, **({"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else {}))

