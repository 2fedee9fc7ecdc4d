"""Unpaired two-domain image data for CycleGAN, held in memory as uint8 (N, 3, H, W).

Sources (the --data of `ganforge train cyclegan`):
    photo2vintage         embedded: crops of the shipped photos (X) and crops under a fixed
                          colour grade (Y); the true translation of every test image is known
    horse2zebra, ...      the CycleGAN datasets, downloaded from the authors' server
    PATH or folder:PATH   a folder with trainA/ trainB/ (and optionally testA/ testB/)
    PATH_A,PATH_B         two folders of images, one per domain (no test split: test = train);
                          either may be packed:DIR (`ganforge datasets pack`)

Folders whose decoded images exceed --data-memory together (or all, with --stream) stream from
disk (data.source); their test images then come from the first TEST_FROM_TRAIN training images.

Training images are stored at load_size (short side scaled, centre square); random crop and
flip happen per batch on the uint8 tensor (random_crop_flip), never through PIL.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError, did_you_mean
from . import download
from .images import builtin_photos, list_images, read_folder, read_image, resize_center_crop

EMBEDDED = "photo2vintage"
# The authors' server (pytorch-CycleGAN-and-pix2pix/datasets/download_cyclegan_dataset.sh). It
# publishes no checksums, so fetch() is called with md5=None and only checks Content-Length.
_URLS = ("https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip",
         "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip")
REMOTE = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
          "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower")
TEST_FROM_TRAIN = 256


@dataclass
class UnpairedData:
    """A, B: training images (N, 3, L, L) uint8 at load size; testA, testB: (M, 3, S, S) at crop size.

    truthA: the known translation of testA into domain B (or None); truthB: of testB into A.
    """

    name: str
    A: torch.Tensor
    B: torch.Tensor
    testA: torch.Tensor
    testB: torch.Tensor
    truthA: torch.Tensor | None = None
    truthB: torch.Tensor | None = None
    test_is_train: bool = False
    source: str = "in-memory"     # in-memory, streaming or packed (A and B may be data.lazy arrays)
    why: str = ""


# ------------------------------------------------------------------ the embedded style

_SEPIA = torch.tensor([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])


def vintage(images: torch.Tensor) -> torch.Tensor:
    """The fixed style of domain Y: uint8 (N, 3, H, W) -> uint8 (N, 3, H, W).

    Per pixel: 80% sepia channel mix + 20% original, an S-shaped tone curve (smoothstep: more
    contrast in the mid-tones), then strongly faded blacks and dimmed whites (output range
    0.2 .. 0.94, the matte look of old prints). The untranslated input is 16.7 dB PSNR from the
    truth on the default test set (64 px), so copying the input is clearly not a translation.
    """
    x = images.float() / 255
    mix = (0.8 * _SEPIA + 0.2 * torch.eye(3)).to(x)
    g = torch.einsum("oc,nchw->nohw", mix, x).clamp(0, 1)
    g = g * g * (3 - 2 * g)
    return (255 * (0.2 + 0.74 * g)).round().clamp(0, 255).to(torch.uint8)


def _side_range(h: int, w: int, test: bool, zoom: float = 1.0) -> tuple[int, int]:
    """(lo, hi) crop sides for an h x w photo: [q/2, q] * zoom, q the width of the test strip (the
    right 25%), within the split's region."""
    q = min(h, w - int(0.75 * w))
    hi = min(h, w - int(0.75 * w) if test else int(0.75 * w), round(zoom * q))
    return min(hi, round(zoom * q / 2)), hi


def _photo_crops(n: int, size: int, test: bool, seed: int, zoom: float = 1.0) -> torch.Tensor:
    """n random square crops of the embedded photos, resized to size: (n, 3, size, size) uint8.

    Training crops come from the left 75% of each photo, test crops from the right 25%, so test
    content is never seen in training (the photos are the same four, though). Crop sides are drawn
    from [q/2, q] * zoom, q the width of the test strip: training crops stored at load size and then
    cropped to crop size pass zoom = load / crop, so both splits show content at the same scale
    (the same source pixels per output pixel).
    """
    g = torch.Generator().manual_seed(seed)
    photos = [torch.from_numpy(np.array(read_image(p, 3))).permute(2, 0, 1) for p in builtin_photos().values()]
    out = []
    for i in range(n):
        img = photos[i % len(photos)]
        h, w = img.shape[1:]
        x0, x1 = (int(0.75 * w), w) if test else (0, int(0.75 * w))
        lo, hi = _side_range(h, w, test, zoom)
        side = int(torch.randint(lo, hi + 1, (1,), generator=g))
        top = int(torch.randint(0, h - side + 1, (1,), generator=g))
        left = x0 + int(torch.randint(0, x1 - x0 - side + 1, (1,), generator=g))
        crop = img[None, :, top:top + side, left:left + side].float()
        out.append(F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False))
    return torch.cat(out).round().clamp(0, 255).to(torch.uint8)


def embedded(load_size: int, crop_size: int, n_train: int = 240, n_test: int = 32) -> UnpairedData:
    """photo2vintage: X and Y come from independent crops (unpaired); the data are the same for every seed."""
    zoom = load_size / crop_size   # train crops are cut to crop_size later (random_crop_flip)
    A = _photo_crops(n_train, load_size, test=False, seed=1, zoom=zoom)
    B = vintage(_photo_crops(n_train, load_size, test=False, seed=2, zoom=zoom))
    testA = _photo_crops(n_test, crop_size, test=True, seed=3)
    sourceB = _photo_crops(n_test, crop_size, test=True, seed=4)
    return UnpairedData(EMBEDDED, A, B, testA, vintage(sourceB), truthA=vintage(testA), truthB=sourceB)


# ------------------------------------------------------------------ folders and downloads

def load_unpaired(spec: str, load_size: int, crop_size: int, strict: bool = False,
                  progress: bool = True, memory: float = 0.0, stream: bool = False) -> UnpairedData:
    """Load a dataset by name or path (see the module docstring); memory (GB, 0: automatic) and
    stream choose between the in-memory and the streaming path for folders (data.source.route)."""
    if crop_size > load_size:
        raise UserError(f"--crop-size {crop_size} is larger than --load-size {load_size}")
    if spec == EMBEDDED:
        from ..resources import check_fits

        check_fits(2 * 240 * 3 * load_size ** 2 * 5, f"{EMBEDDED} at --load-size {load_size}", "lower --load-size")
        return embedded(load_size, crop_size)
    if spec in REMOTE:
        return _from_root(download_remote(spec, progress), spec, load_size, crop_size, strict, memory, stream, progress)
    if "," in spec:
        a, _, b = spec.partition(",")
        if not a.strip() or not b.strip():
            raise UserError(f"--data PATH_A,PATH_B needs two folders, got {spec!r}")
        (A, B), how = _domains([a.strip(), b.strip()], load_size, crop_size, strict, memory, stream, progress)
        return UnpairedData(spec, A, B, _shrink(A, crop_size), _shrink(B, crop_size), test_is_train=True, **how)
    path = Path(spec.removeprefix("folder:"))
    if path.is_dir():
        return _from_root(path, spec, load_size, crop_size, strict, memory, stream, progress)
    raise did_you_mean("cyclegan dataset", spec, (EMBEDDED,) + REMOTE + ("PATH", "PATH_A,PATH_B"))


def _from_root(root: Path, name: str, load_size: int, crop_size: int, strict: bool, memory: float = 0.0,
               stream: bool = False, progress: bool = True) -> UnpairedData:
    for sub in ("trainA", "trainB"):
        if not (root / sub).is_dir():
            raise UserError(f"{root} has no {sub}/ folder; an unpaired dataset needs trainA/ and trainB/ "
                            "(and optionally testA/ testB/), or pass two folders as --data PATH_A,PATH_B")
    (A, B), how = _domains([root / "trainA", root / "trainB"], load_size, crop_size, strict, memory, stream, progress)
    if (root / "testA").is_dir() and (root / "testB").is_dir():
        lazy = how["source"] != "in-memory"
        testA = _load_domain(root / "testA", crop_size, crop_size, strict, lazy, progress)
        testB = _load_domain(root / "testB", crop_size, crop_size, strict, lazy, progress)
        return UnpairedData(name, A, B, testA, testB, **how)
    return UnpairedData(name, A, B, _shrink(A, crop_size), _shrink(B, crop_size), test_is_train=True, **how)


def _domains(specs: list, size: int, min_side: int, strict: bool, memory: float, stream: bool,
             progress: bool) -> tuple[list, dict]:
    """The training images of each domain (a folder, or packed:DIR) at size: in memory, or streaming
    when the folders' decoded images together exceed the budget; and {source, why}."""
    from .packed import open_packed
    from .source import route

    folders = [Path(s) for s in specs if not str(s).startswith("packed:")]
    lazy, why = route(sum(len(list_images(f)) for f in folders if f.is_dir()), 3 * size * size, memory, stream)
    out, kinds = [], []
    for s in specs:
        if str(s).startswith("packed:"):
            data = open_packed(Path(str(s)[7:]), 3, size)
            out.append(data.images)
            kinds.append(("packed", data.why))
        else:
            out.append(_load_domain(Path(s), size, min_side, strict, lazy, progress))
            kinds.append(("streaming" if lazy else "in-memory", why))
    source = "+".join(dict.fromkeys(k for k, _ in kinds))
    return out, {"source": source, "why": "; ".join(dict.fromkeys(w for _, w in kinds))}


def _shrink(x, size: int) -> torch.Tensor:
    """Test images made from training images: (N, 3, L, L) -> (N, 3, size, size); of lazy (streaming or
    packed) images only the first TEST_FROM_TRAIN are read."""
    if not isinstance(x, torch.Tensor):
        x = x[:TEST_FROM_TRAIN]
    if x.shape[-1] == size:
        return x
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)


def _load_domain(folder: Path, size: int, min_side: int, strict: bool, lazy: bool = False, progress: bool = True):
    """Every image under folder as (N, 3, size, size) uint8 (lazy: a data.lazy.StreamImages).
    Unreadable images and images whose short side is below min_side (the crop size) are skipped
    with a warning, or fail with strict."""
    def check(p, w, h):
        if min(w, h) < min_side:
            raise UserError(f"image {p} is {w}x{h}, smaller than the crop size {min_side} (lower --crop-size, "
                            "or remove it)")

    if lazy:
        from .index import index_folder
        from .lazy import StreamImages

        return StreamImages(index_folder(folder, 3, check, strict, progress).paths, 3, size)

    def read(p):   # the streaming path's decode_square, with the size check on the way
        img = read_image(p, 3, draft=size)   # draft keeps the short side >= size >= min_side when it was
        check(p, *img.size)
        return np.asarray(resize_center_crop(img, size), np.uint8)

    _, arrays = read_folder(folder, read, strict)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def download_remote(name: str, progress: bool = True) -> Path:
    """Download and unzip a CycleGAN dataset into the cache; returns the folder holding trainA/ etc."""
    root = download.cache_dir() / "cyclegan"
    archive = download.fetch([u.format(name) for u in _URLS], root / f"{name}.zip", None, progress)
    dest = root / name
    if not dest.is_dir():
        _extract_zip(archive, dest)
    inner = dest / name   # the archives hold one top folder named after the dataset
    return inner if inner.is_dir() else dest


def _extract_zip(archive: Path, dest: Path) -> None:
    """Unzip into a temp folder beside dest, then rename: dest exists only when complete."""
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=dest.name + ".part"))
    try:
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)   # zipfile drops absolute paths and '..' components
        os.replace(tmp, dest)
    except (zipfile.BadZipFile, OSError) as e:
        raise UserError(f"cannot extract {archive}: {e}; delete it and download again") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


# ------------------------------------------------------------------ per-batch augmentation

def random_crop_flip(x: torch.Tensor, size: int, flip: bool, g: torch.Generator) -> torch.Tensor:
    """(N, C, L, L) uint8 -> (N, C, size, size) uint8: an independent random crop (and a coin-flip
    horizontal mirror) per image, by one gather rather than a Python loop over pixels."""
    n, _, h, w = x.shape
    top = torch.randint(0, h - size + 1, (n,), generator=g)
    left = torch.randint(0, w - size + 1, (n,), generator=g)
    ar = torch.arange(size)
    cols = left[:, None] + ar                                             # (n, size)
    if flip:
        mirror = torch.rand(n, generator=g) < 0.5
        cols = torch.where(mirror[:, None], cols.flip(1), cols)
    rows = top[:, None] + ar
    idx = torch.arange(n)[:, None, None]
    out = x.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]]   # (n, size, size, C)
    return out.permute(0, 3, 1, 2).contiguous()


def held_out_photos() -> dict[str, torch.Tensor]:
    """The right 25% of each shipped photo at full resolution, the part photo2vintage tests on
    (never cropped for training): name -> (1, 3, H, W) uint8."""
    out = {}
    for name, path in builtin_photos().items():
        img = torch.from_numpy(np.array(read_image(path, 3))).permute(2, 0, 1)[None]
        out[name] = img[..., int(0.75 * img.shape[-1]):].contiguous()
    return out
