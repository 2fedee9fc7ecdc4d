"""Clips as files: frame strips (PNG), animated GIFs and MP4s. clips are (N, T, C, H, W) floats in
[-1, 1]; a file's frame t shows frame t of every clip in one grid."""
from __future__ import annotations

import torch


def save_strip(clips: torch.Tensor, path, max_frames: int = 16):
    """A PNG with one row per clip and one column per frame (the first max_frames). clips (N, T, C, H, W)."""
    from . import save_grid

    t = min(max_frames, clips.shape[1])
    return save_grid(clips[:, :t].flatten(0, 1), path, nrow=t)


def _grid_frames(clips: torch.Tensor, nrow: int | None) -> list:
    """Frame t of every clip in one grid (H, W, C) uint8 array per t, upscaled to about 64 px a clip."""
    from . import make_grid

    up = max(1, 64 // clips.shape[-1])
    return [make_grid(clips[:, t], nrow, upscale=up) for t in range(clips.shape[1])]


def save_gif(clips: torch.Tensor, path, nrow: int | None = None, fps: int = 8):
    """An animated GIF: frame t shows frame t of every clip in a grid. clips (N, T, C, H, W) in [-1, 1]."""
    from PIL import Image

    from ..files import save_pil

    images = [Image.fromarray(f[..., 0] if f.shape[2] == 1 else f) for f in _grid_frames(clips, nrow)]
    return save_pil(images[0], path, save_all=True, append_images=images[1:], duration=1000 // fps, loop=0)


def save_mp4(clips: torch.Tensor, path, nrow: int | None = None, fps: int = 8):
    """The GIF's grid as an H.264 MP4 through PyAV (`pip install 'ganforge[video]'`)."""
    from ..files import write_output
    from ..optional import require

    av = require("av", "writing MP4")
    frames = _grid_frames(clips, nrow)
    h, w = (s + s % 2 for s in frames[0].shape[:2])   # H.264 wants even sides

    def write(f):
        with av.open(f, "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            for g in frames:
                g = g.repeat(3, 2) if g.shape[2] == 1 else g
                canvas = torch.full((h, w, 3), 255, dtype=torch.uint8).numpy()
                canvas[:g.shape[0], :g.shape[1]] = g
                out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
            out.mux(stream.encode())

    return write_output(path, write)
