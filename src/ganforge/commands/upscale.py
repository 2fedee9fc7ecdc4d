"""ganforge upscale: super-resolve images with an sr checkpoint (srresnet / srgan; no architecture flags)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command, add_device, add_file_or_folder_io

    p = add_command(sub, "upscale", "upscale one image or every image of a folder with a super-resolution checkpoint",
                    "ganforge upscale runs/sr-0001/checkpoint.pt photo.png -o photo_x4.png\n"
                    "ganforge upscale runs/sr-0002 small/ -o large/ --scale 4 --tile 128\n"
                    "ganforge upscale runs/sr-0002 small/ -o large/ --device cuda --tile 0   # whole images on the GPU")
    add_file_or_folder_io(p, "an sr checkpoint file (ganforge train sr), or a run directory holding one")
    p.add_argument("--scale", type=int, default=None, help="the upscaling factor; must be the one the checkpoint "
                                                           "was trained for (default: that one)")
    p.add_argument("--tile", type=int, default=128,
                   help="run the net on TILE x TILE input parts with overlap, so memory stays bounded; the result "
                        "equals the whole-image pass (default 128; 0: whole images)")
    p.add_argument("--strict", action="store_true", help="stop at the first unreadable image (exit 2)")
    add_device(p)
    p.set_defaults(func=_upscale)


def _upscale(args) -> int:
    from ..api import upscale

    if args.tile is not None and args.tile < 0:
        raise UserError(f"--tile must be >= 0, got {args.tile}")
    folder = Path(args.input).is_dir()
    written, failed = upscale(args.checkpoint, args.input, args.output, scale=args.scale, tile=args.tile or None,
                              strict=args.strict, device=args.device,
                              log=lambda msg: print(msg, file=sys.stderr) if folder else None)
    if failed and not folder:   # the one image given could not be upscaled: an error
        raise UserError(failed[0][1])
    print(f"upscaled {len(written)} image(s) into {args.output}" + (f"; skipped {len(failed)}" if failed else ""))
    return 0
