"""Images held in memory as uint8 (N, C, H, W) tensors (ImageData), floats in [-1, 1] only per
batch; reading, converting and resizing image files. The named datasets are in data.datasets.
"""
from __future__ import annotations

import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import UserError

BUILTIN = Path(__file__).parent / "builtin"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


@dataclass
class ImageData:
    """images: (N, C, H, W) uint8; labels: (N,) int64 or None; classes: label names or None."""

    name: str
    images: torch.Tensor    # or a data.lazy.LazyImages (streaming / packed) with the same indexing
    labels: torch.Tensor | None = None
    classes: list[str] | None = None
    source: str = "in-memory"   # in-memory, streaming or packed (data.source.route decides)
    why: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return self.images.shape[0]


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1]."""
    return batch.float().div_(127.5).sub_(1.0)


def to_uint8(batch: torch.Tensor) -> torch.Tensor:
    """floats in [-1, 1] -> uint8."""
    return batch.detach().float().add(1).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8).cpu()


# ------------------------------------------------------------------------------ converting


def convert(data: ImageData, channels: int = 0, size: int = 0) -> ImageData:
    """Change channels (gray <-> RGB) and resize to size x size, once, at load time."""
    x = data.images
    n, c, h, w = x.shape
    c, h, w = channels or c, size or h, size or w
    if (c, h, w) != tuple(x.shape[1:]):
        from ..resources import check_fits

        check_fits(n * c * h * w + min(n, 4096) * c * h * w * 8, f"{data.name}: {n:,} images at {c}x{h}x{w}",
                   "lower --image-size")
    return ImageData(data.name, convert_batch(x, channels, size), data.labels, data.classes)


def convert_batch(x: torch.Tensor, channels: int = 0, size: int = 0) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, channels, size, size): gray <-> RGB, antialiased bilinear resize
    (0 keeps that dimension). The in-memory path runs it once at load time, the packed path per batch."""
    if channels and x.shape[1] != channels:
        if channels == 3:
            x = x.expand(-1, 3, -1, -1).contiguous()
        else:
            w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            x = (x.float() * w).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    if size and tuple(x.shape[2:]) != (size, size):
        out = []
        for chunk in x.split(4096):
            y = F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            out.append(y.round().clamp(0, 255).to(torch.uint8))
        x = torch.cat(out)
    return x


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())

MAX_PIXELS_ENV = "GANFORGE_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 178_956_970   # PIL's own default (about 13400 x 13400)


def max_image_pixels() -> int | None:
    """The largest width x height read_image accepts: `ganforge --max-image-pixels N` or
    $GANFORGE_MAX_IMAGE_PIXELS; 0 means no limit."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    try:
        n = int(raw) if raw else DEFAULT_MAX_PIXELS
    except ValueError:
        raise UserError(f"${MAX_PIXELS_ENV} must be a whole number of pixels, got {raw!r}") from None
    return n if n > 0 else None


def read_image(path: Path, channels: int, header: bool = False, draft: int = 0):
    """Open one image as a PIL image in L or RGB mode (header: only its (width, height), nothing
    decoded: what a folder index records; draft: a JPEG is decoded at the smallest scale 1/2, 1/4
    or 1/8 whose short side is still >= draft, 2.7x faster for 256 px files read for 64 px). Every way an image can fail (missing, not an
    image, truncated, a folder, a header claiming more pixels than max_image_pixels(): a possible
    decompression bomb) raises UserError naming the file, so folder loaders can skip and report it."""
    import warnings

    from PIL import Image

    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None   # checked here, against our limit, before decoding
            with Image.open(path) as img:
                w, h = img.size
                if limit is not None and w * h > limit:
                    raise UserError(f"image {path} is {w}x{h} = {w * h:,} pixels, more than the limit of {limit:,} "
                                    f"(a possible decompression bomb); if it is genuine, raise the limit with "
                                    f"`ganforge --max-image-pixels {w * h} ...`")
                if header:
                    return w, h
                if draft and img.format == "JPEG":
                    img.draft(img.mode, (draft, draft))
                img.load()
                return img.convert("L" if channels == 1 else "RGB")
    except UserError:
        raise
    except MemoryError:
        raise UserError(f"cannot read image {path}: not enough memory to decode it") from None
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError, TypeError, struct.error,
            zlib.error, Image.DecompressionBombError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise UserError(f"cannot read image {path}: {reason}") from None


def resize_center_crop(img, size: int):
    """Scale the short side to `size`, then crop the centre square."""
    from PIL import Image

    w, h = img.size
    s = size / min(w, h)
    img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def read_folder(folder: Path, read, strict: bool = False, paths: list[Path] | None = None) -> tuple[list[Path], list]:
    """read(path) for every image under `folder` (recursively; or for `paths`, listed already), as
    (paths read, results). An image that read() refuses with a UserError (unreadable, too small, ...)
    is skipped and reported in one warning, or raised with strict; a folder with no usable image is an error."""
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist")
    paths = list_images(folder) if paths is None else paths
    if not paths:
        raise UserError(f"image folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    good, results, bad = [], [], []
    for p in paths:
        try:
            results.append(read(p))
        except UserError as e:
            if strict:
                raise
            bad.append(str(e))
            continue
        good.append(p)
    if bad:
        print(f"warning: skipped {len(bad)} image(s) in {folder} (use --strict to fail):", file=sys.stderr)
        for msg in bad[:10]:
            print("  " + msg, file=sys.stderr)
    if not results:
        raise UserError(f"image folder {folder} holds no readable images")
    return good, results


def builtin_photos() -> dict[str, Path]:
    """The embedded CC0 / public-domain photos (see NOTICE), by name."""
    return {p.stem: p for p in sorted((BUILTIN / "photos").glob("*.jpg"))}
