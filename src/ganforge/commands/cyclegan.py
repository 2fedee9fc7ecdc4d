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

    if args.size is not None and not 8 <= args.size <= 8192:
        raise UserError(f"--size must be in 8..8192, got {args.size}")
    if not 1 <= args.batch_size <= 1024:
        raise UserError(f"--batch-size must be in 1..1024, got {args.batch_size}")
    out = Path(args.output)
    blocker = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None and (Path(args.input).is_dir() or blocker != out):
        raise UserError(f"cannot write into {out}: {blocker} is a file, not a folder")
    written, failed = translate(args.checkpoint, args.input, args.output, direction=args.direction,
                                batch_size=args.batch_size, size=args.size, strict=args.strict,
                                log=lambda msg: print(msg, file=sys.stderr) if Path(args.input).is_dir() else None,
                                tile=args.tile)
    if failed and not Path(args.input).is_dir():   # the one image given could not be translated: an error
        raise UserError(failed[0][1])
    print(f"translated {len(written)} image(s) {args.direction} into {args.output}"
          + (f"; skipped {len(failed)} unreadable" if failed else ""))
    return 0


def _export(args) -> int:
    import tempfile
    import warnings

    from ..api import load
    from ..files import write_output
    from ..optional import require
    from ..translate import export_onnx

    from ..files import output_file

    out = output_file(args.output)
    require("onnx", "ganforge export --format onnx")
    tr = load(args.checkpoint, "cyclegan")
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the TorchScript exporter warns about instance norm's mode
        export_onnx(tr, Path(tmp) / "model.onnx", args.direction)
        data = (Path(tmp) / "model.onnx").read_bytes()
    write_output(out, lambda f: f.write(data))   # temp file + rename: never through a link at -o
    print(f"wrote {out} ({args.direction}, input 'image' (N, 3, H, W) in [-1, 1], H and W multiples of 4)")
    return 0
