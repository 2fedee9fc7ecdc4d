"""`ganforge sample` for outputs that are not one image grid: a family's extra view (--show-levels: a
pyramid's levels) and clips (-o clips.gif: an animated grid; .mp4 through PyAV; .png: a frame strip,
one row per clip)."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from ..errors import UserError

CLIPS_MAX = 256   # clips in one GIF / strip


def sample_levels(gen, args, out) -> int:
    """One row per level of the generator's "levels" view (coarsest first, scaled (nearest) to the full
    side), -n columns (at most 32)."""
    import torch
    import torch.nn.functional as F

    from ..viz import save_grid

    n = min(args.num, 32)
    levels = gen.view("levels", n, args.seed if args.seed is not None else 0)
    size = gen.image_shape[1:]
    sides = [lv.shape[-1] for lv in levels]   # coarsest first
    save_grid(torch.cat([F.interpolate(lv, size=size, mode="nearest") for lv in levels]), out, nrow=n,
              row_labels=[f"{side} px" for side in sides])
    sides = " -> ".join(map(str, sides))
    print(f"wrote {out} (levels {sides}, one row each, {n} samples; step {gen.step} of {gen.path})")
    return 0


def sample_clips(gen, args, out) -> int:
    """-n clips as an animated GIF grid (.gif), an MP4 (.mp4, PyAV) or a frame strip (.png / .jpg)."""
    from ..viz.media import save_gif, save_mp4, save_strip

    if args.num > CLIPS_MAX:
        raise UserError(f"-n: at most {CLIPS_MAX} clips in one file, got {args.num}")
    if args.interpolate or args.traverse or args.individual or args.label is not None:
        raise UserError(f"{gen.path} makes clips: it takes -n, -o, --seed and --nrow only")
    suffix = Path(out).suffix.lower()
    clips = gen.sample(args.num, seed=args.seed, batch_size=64)
    nrow = args.nrow or math.ceil(math.sqrt(args.num))
    if suffix == ".gif":
        save_gif(clips, out, nrow)
        if importlib.util.find_spec("av") is not None:   # the same grid as MP4 when a writer is installed
            print(f"wrote {save_mp4(clips, Path(out).with_suffix('.mp4'), nrow)}")
    elif suffix == ".mp4":
        save_mp4(clips, out, nrow)
    else:
        save_strip(clips, out)
    t, c, h, w = gen.image_shape
    print(f"wrote {out} ({args.num} clips of {t} frames, {c}x{h}x{w}; step {gen.step} of {gen.path})")
    return 0
