"""ganforge translate: use a CycleGAN checkpoint (no architecture flags); export is commands/export.py."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command, add_device, add_file_or_folder_io

    p = add_command(sub, "translate", "translate one image or every image of a folder with a CycleGAN checkpoint",
                    "ganforge translate runs/cyclegan-0001/checkpoint.pt photos/ -o vintage/\n"
                    "ganforge translate runs/cyclegan-0001 zebra.jpg -o horse.jpg --direction BtoA --size 256\n"
                    "ganforge translate runs/cyclegan-0001 photos/ -o vintage/ --device cuda --batch-size 32")
    add_file_or_folder_io(p, "a cyclegan checkpoint file, or a run directory holding checkpoint.pt")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"], help="AtoB uses G, BtoA uses F "
                                                                                "(default AtoB)")
    p.add_argument("--batch-size", type=int, default=8, help="images per forward pass (default 8)")
    p.add_argument("--size", type=int, default=None,
                   help="short side the net sees; each image is scaled to it (aspect kept), translated and "
                        "scaled back to its own size (default: none, each image at its own resolution)")
    p.add_argument("--tile", type=int, default=None,
                   help="translate in TILE x TILE parts (a multiple of 4) with overlap and whole-image "
                        "statistics, for images too large for memory in one pass (default: whole image)")
    p.add_argument("--strict", action="store_true", help="stop at the first unreadable image (exit 2)")
    add_device(p)
    p.set_defaults(func=_translate)


def _translate(args) -> int:
    from ..api import translate

    if args.size is not None and not 8 <= args.size <= 8192:
        raise UserError(f"--size must be in 8..8192, got {args.size}")
    if not 1 <= args.batch_size <= 1024:
        raise UserError(f"--batch-size must be in 1..1024, got {args.batch_size}")
    # a file where the output folder must be: translate.image_targets says so
    written, failed = translate(args.checkpoint, args.input, args.output, direction=args.direction,
                                batch_size=args.batch_size, size=args.size, strict=args.strict,
                                log=lambda msg: print(msg, file=sys.stderr) if Path(args.input).is_dir() else None,
                                tile=args.tile, device=args.device)
    if failed and not Path(args.input).is_dir():   # the one image given could not be translated: an error
        raise UserError(failed[0][1])
    print(f"translated {len(written)} image(s) {args.direction} into {args.output}"
          + (f"; skipped {len(failed)} unreadable" if failed else ""))
    return 0

