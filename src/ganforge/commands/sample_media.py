"""`ganforge sample` for the families whose output is not one image grid: LAPGAN's level panel
(--show-levels) and a video GAN's clips (-o clips.gif: an animated grid; .mp4 through PyAV; .png:
a frame strip, one row per clip)."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from ..errors import UserError

CLIPS_MAX = 256   # clips in one GIF / strip


def sample_levels(gen, args, out) -> int:
    """One row per pyramid level (coarsest first, scaled to the full side), -n columns (at most 32)."""
    from ..tasks.lapgan import level_panel
    from ..viz import save_grid

    n = min(args.num, 32)
    panel = level_panel(gen, n, args.seed if args.seed is not None else 0)
    save_grid(panel, out, nrow=n)
    sides = " -> ".join(str(s) for s in reversed(gen.net.sides))
    print(f"wrote {out} (levels {sides}, one row each, {n} samples; step {gen.step} of {gen.path})")
    return 0


def sample_clips(gen, args, out) -> int:
    """-n clips as an animated GIF grid (.gif), an MP4 (.mp4, PyAV) or a frame strip (.png / .jpg)."""
    from ..viz.media import save_gif, save_mp4, save_strip

    if args.num > CLIPS_MAX:
        raise UserError(f"-n: at most {CLIPS_MAX} clips in one file, got {args.num}")
    if args.interpolate or args.traverse or args.individual or args.label is not None:
        raise UserError(f"{gen.path} is a video GAN: it takes -n, -o, --seed and --nrow only")
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
