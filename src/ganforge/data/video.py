"""Video clips in memory as ImageData whose images are (N, T, C, H, W) uint8.

    moving-mnist[:D]  D (1 or 2, default 1) mnist5k digits bouncing in an HxH frame (default 32),
                      made at load time, deterministic per seed: train clips from the training
                      digits (one clip per digit, so every digit appears), test clips from the
                      held-out ones. Each digit is its 20x20 box (MNIST's own box) moving 1 to 2.5
                      pixels a frame (in fractions of a pixel, bilinear) and bouncing off the borders;
                      two digits overlap by maximum.
    videos:PATH       a video file or a folder of them: GIF (Pillow), MP4 / AVI / MOV / WEBM / MKV
                      (PyAV, `pip install 'ganforge[video]'`), or sub-folders of frame images (sorted
                      by name). Each video gives its non-overlapping runs of --frames frames, resized
                      (short side, centre crop) to the frame size.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .datasets import load_images
from .images import IMAGE_SUFFIXES, ImageData, list_images, read_image, resize_center_crop

SPRITE = 20                      # MNIST digits fit a 20x20 box inside their 28x28 image
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v"}
DEFAULT_SIDE = 32
SPECS = {"moving-mnist": ("generated", "one mnist5k digit bouncing in each clip"),
         "moving-mnist:2": ("generated", "two mnist5k digits bouncing in each clip"),
         "videos:PATH": ("local", "a video file or a folder of them (GIF; MP4, WEBM, ... with PyAV; folders of frames)")}


def load_clips(spec: str, split: str = "train", frames: int = 16, channels: int = 0, size: int = 0,
               seed: int = 0, strict: bool = False, n: int | None = None) -> ImageData:
    """The clips `spec` names -> ImageData with images (N, frames, C, H, W) uint8."""
    kind, _, arg = spec.partition(":")
    if kind == "moving-mnist":
        if arg not in ("", "1", "2"):
            raise UserError(f"moving-mnist takes 1 or 2 digits per clip (moving-mnist:2), got {arg!r}")
        if channels not in (0, 1):
            raise UserError("moving-mnist clips are grayscale: leave --channels at 0 or 1")
        return moving_digits(split, frames, size or DEFAULT_SIDE, int(arg or 1), seed, n)
    if kind == "videos" and arg:
        return load_videos(Path(arg), frames, channels or 3, size or DEFAULT_SIDE, strict)
    raise UserError(f"videogan trains on clips: --data {', '.join(SPECS)}, got {spec!r}")


# ------------------------------------------------------------------------------ moving digits

def digit_sprite(img: np.ndarray) -> np.ndarray:
    """(28, 28) uint8 -> (20, 20): the digit's bounding box centred in a 20x20 box."""
    rows, cols = np.nonzero(img.any(1))[0], np.nonzero(img.any(0))[0]
    if not len(rows) or rows[-1] - rows[0] >= SPRITE or cols[-1] - cols[0] >= SPRITE:
        return img[4:4 + SPRITE, 4:4 + SPRITE]
    box = img[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    out = np.zeros((SPRITE, SPRITE), np.uint8)
    top, left = (SPRITE - box.shape[0]) // 2, (SPRITE - box.shape[1]) // 2
    out[top:top + box.shape[0], left:left + box.shape[1]] = box
    return out


def bounce(n: int, frames: int, room: int, rng: np.random.Generator) -> np.ndarray:
    """(n, frames, 2) top-left corners (y, x) in [0, room], in fractions of a pixel: constant velocity,
    reflected at the borders."""
    pos = rng.uniform(0, room, (n, 2))
    angle, speed = rng.uniform(0, 2 * np.pi, n), rng.uniform(1.0, 2.5, n)
    vel = np.stack([np.sin(angle), np.cos(angle)], 1) * speed[:, None]
    out = np.empty((n, frames, 2))
    for t in range(frames):
        out[:, t] = pos
        pos = pos + vel
        low, high = pos < 0, pos > room
        pos = np.where(low, -pos, np.where(high, 2 * room - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return out


def place(sprites: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Sprites (..., S, S) moved by fractions of a pixel fy, fx (...) -> (..., S + 1, S + 1) floats
    (bilinear), so digits glide as a generator's bilinear shift moves them and blur alike between pixels."""
    s = sprites.astype(np.float32)
    fy, fx = fy[..., None, None], fx[..., None, None]
    lead = np.broadcast_shapes(s.shape[:-2], fy.shape[:-2])
    out = np.zeros(lead + (s.shape[-2] + 1, s.shape[-1] + 1), np.float32)
    out[..., :-1, :-1] += (1 - fy) * (1 - fx) * s
    out[..., 1:, :-1] += fy * (1 - fx) * s
    out[..., :-1, 1:] += (1 - fy) * fx * s
    out[..., 1:, 1:] += fy * fx * s
    return out


def moving_digits(split: str = "train", frames: int = 16, size: int = DEFAULT_SIDE, digits: int = 1,
                  seed: int = 0, n: int | None = None) -> ImageData:
    """Clips (n, frames, 1, size, size) of `digits` bouncing mnist5k digits; labels: the first digit's class.
    n (default: one clip per digit of the split) below the split's size takes digits spread evenly over it."""
    if size < SPRITE + 4:
        raise UserError(f"moving-mnist needs frames of at least {SPRITE + 4}x{SPRITE + 4}, got --image-size {size}")
    base = load_images("mnist5k", split)
    images, labels = base.images[:, 0].numpy(), base.labels.numpy()
    rng = np.random.default_rng(seed)
    n = n or len(images)
    # the splits are sorted by class: n < all clips take digits spread evenly over the split, so a
    # few hundred clips hold every class (the first n would be all zeros)
    first = np.arange(n) * len(images) // n if n < len(images) else np.arange(n) % len(images)
    which = np.stack([first] + [rng.integers(0, len(images), n) for _ in range(digits - 1)], 1)
    clips = np.zeros((n, frames, size, size), np.float32)
    for d in range(digits):
        paths = bounce(n, frames, size - SPRITE - 1, rng)
        corner = paths.astype(np.int64)
        frac = paths - corner
        for i in range(n):
            patches = place(digit_sprite(images[which[i, d]]), frac[i, :, 0], frac[i, :, 1])   # (T, S + 1, S + 1)
            for t, (y, x) in enumerate(corner[i]):
                window = clips[i, t, y:y + SPRITE + 1, x:x + SPRITE + 1]
                np.maximum(window, patches[t], out=window)
    clips = np.rint(clips).astype(np.uint8)
    name = "moving-mnist" if digits == 1 else f"moving-mnist:{digits}"
    return ImageData(name, torch.from_numpy(clips)[:, :, None], torch.from_numpy(labels[which[:, 0]]), base.classes)


# ------------------------------------------------------------------------------ video files

def _frames_of(path: Path, channels: int, size: int) -> list[np.ndarray]:
    """Every frame of one video (a GIF, a PyAV-readable file or a folder of images) as (size, size, C) uint8."""
    def fit(img):
        img = img.convert("L" if channels == 1 else "RGB")
        return np.asarray(resize_center_crop(img, size), np.uint8).reshape(size, size, channels)

    if path.is_dir():
        return [fit(read_image(p, channels)) for p in list_images(path)]
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from ..optional import require

        av = require("av", f"reading {path.suffix} videos")
        try:
            with av.open(str(path)) as f:
                return [fit(frame.to_image()) for frame in f.decode(video=0)]
        except (av.FFmpegError, OSError, ValueError, IndexError) as e:
            raise UserError(f"cannot read video {path}: {e}") from None
    from PIL import Image, ImageSequence

    read_image(path, channels)   # the checks every image gets (unreadable, truncated, decompression bomb)
    try:
        with Image.open(path) as img:
            return [fit(frame.copy()) for frame in ImageSequence.Iterator(img)]
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"cannot read video {path}: {e}") from None


def list_videos(root: Path) -> list[Path]:
    """Video files and frame folders (folders holding images) under root, sorted; root itself if it is a file."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UserError(f"video folder {root} does not exist")
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES | {".gif"}:
            found.append(p)
        elif p.is_dir() and any(q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES for q in p.iterdir()):
            found.append(p)
    if not found:
        raise UserError(f"{root} holds no videos (GIF, {', '.join(sorted(VIDEO_SUFFIXES))}, or folders of frames)")
    return found


def load_videos(root: Path, frames: int, channels: int, size: int, strict: bool = False) -> ImageData:
    """The non-overlapping runs of `frames` frames of every video under root -> (N, frames, C, size, size).
    Unreadable videos and videos shorter than `frames` are skipped and reported (--strict: an error)."""
    clips, bad, longest = [], [], 0
    strict = strict or root.is_file()   # one named file: its problem is the error itself
    for path in list_videos(root):
        try:
            got = _frames_of(path, channels, size)
        except UserError as e:
            if strict:
                raise
            bad.append(str(e))
            continue
        longest = max(longest, len(got))
        if len(got) < frames:
            msg = f"{path} has {len(got)} frames, fewer than --frames {frames}"
            if strict:
                raise UserError(msg)
            bad.append(msg)
        for start in range(0, len(got) - frames + 1, frames):
            clips.append(np.stack(got[start:start + frames]))
    if bad:
        print(f"warning: skipped {len(bad)} video(s) in {root} (use --strict to fail):", file=sys.stderr)
        for msg in bad[:10]:
            print("  " + msg, file=sys.stderr)
    if not clips:
        if longest:
            raise UserError(f"no clip of --frames {frames} in {root}: its longest video has {longest} frames; "
                            f"lower --frames")
        raise UserError(f"{root} holds no readable videos")
    x = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3).contiguous()
    return ImageData(f"videos:{root}", x)
