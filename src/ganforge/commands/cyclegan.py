"""ganforge translate / ganforge export: use a CycleGAN checkpoint (no architecture flags)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "translate", "translate one image or every image of a folder with a CycleGAN checkpoint",
                    "ganforge translate runs/cyclegan-0001/checkpoint.pt photos/ -o vintage/\n"
                    "ganforge translate runs/cyclegan-0001 zebra.jpg -o horse.jpg --direction BtoA --size 256")
    p.add_argument("checkpoint", help="a cyclegan checkpoint file, or a run directory holding checkpoint.pt")
    p.add_argument("input", help="an image file, or a folder (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="output folder (names and sub-folders are kept), "
                                                           "or a file name when INPUT is one image")
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
    p.set_defaults(func=_translate)

    p = add_command(sub, "export", "export a CycleGAN generator (ONNX)",
                    "ganforge export runs/cyclegan-0001/checkpoint.pt --format onnx -o g.onnx\n"
                    "ganforge export runs/cyclegan-0001 -o f.onnx --direction BtoA")
    p.add_argument("checkpoint", help="a cyclegan checkpoint file, or a run directory holding checkpoint.pt")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="export format (default onnx)")
    p.add_argument("-o", "--output", required=True, help="file to write, e.g. g.onnx")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"], help="which generator (default AtoB)")
    p.set_defaults(func=_export)


def _translate(args) -> int:
    from ..api import translate

    written, failed = translate(args.checkpoint, args.input, args.output, direction=args.direction,
                                batch_size=args.batch_size, size=args.size, strict=args.strict,
                                log=lambda msg: print(msg, file=sys.stderr), tile=args.tile)
    print(f"translated {len(written)} image(s) {args.direction} into {args.output}"
          + (f"; skipped {len(failed)} unreadable" if failed else ""))
    return 0


def _export(args) -> int:
    import warnings

    from ..api import load
    from ..tasks.cyclegan import export_onnx

    out = Path(args.output)
    if out.parent and not out.parent.is_dir():
        raise UserError(f"output folder {out.parent} does not exist")
    tr = load(args.checkpoint, "cyclegan")
    with warnings.catch_warnings():   # the TorchScript exporter warns about instance norm's mode
        warnings.simplefilter("ignore")
        export_onnx(tr, out, args.direction)
    print(f"wrote {out} ({args.direction}, input 'image' (N, 3, H, W) in [-1, 1], H and W multiples of 4)")
    return 0
