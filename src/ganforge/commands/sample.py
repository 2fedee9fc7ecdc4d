"""ganforge sample CHECKPOINT: images from a trained generator, no architecture flags needed."""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import UserError

GRID_MAX = 1024   # with --individual, the grid shows the first this many images


def register(sub) -> None:
    from ..cli import add_command, add_device

    p = add_command(sub, "sample", "generate an image grid (and optionally single images) from a GAN checkpoint",
                    "ganforge sample runs/gan-0001/checkpoint.pt -n 64 -o grid.png --seed 1\n"
                    "ganforge sample runs/gan-0001 -n 10000 -o grid.png --individual samples/ --device cuda\n"
                    "ganforge sample runs/gan-0001 -n 100000 -o grid.png --individual samples/   # streamed in chunks\n"
                    "ganforge sample runs/cgan --label 3 -n 16      # conditional: one class (or --label Sneaker)\n"
                    "ganforge sample runs/infogan --traverse c1     # InfoGAN: code values x a continuous code\n"
                    "ganforge sample runs/infogan --code cat=3 --code c1=0.5 -n 16   # set codes (others random)\n"
                    "ganforge sample runs/gan-0001 --interpolate -n 10 --seed 4\n"
                    "ganforge sample runs/lapgan --show-levels -n 8 -o levels.png   # LAPGAN: one row per level\n"
                    "ganforge sample runs/videogan -n 16 -o clips.gif             # video GAN: animated grid")
    p.add_argument("checkpoint", help="a checkpoint file, or a run directory holding checkpoint.pt")
    p.add_argument("-n", "--num", type=int, default=None,
                   help="number of images (default 64; a grid with one row per class: 8 per class, and -n is "
                        "rounded up to a multiple of the classes)")
    p.add_argument("-o", "--output", default="samples.png", help="grid PNG to write (default samples.png)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")
    p.add_argument("--nrow", type=int, default=None, help="images per grid row (default: square)")
    p.add_argument("--label", help="conditional models: draw this class (index or name); without it the grid "
                                   "shows one row per class")
    p.add_argument("--traverse", metavar="cK", help="models with codes (InfoGAN): rows per categorical code value, "
                                                     "columns sweeping continuous code K (e.g. c1) from -1 to 1")
    p.add_argument("--code", action="append", default=[], metavar="NAME=VALUE",
                   help="models with codes: set one code (cat=3, c1=0.5; repeatable); codes left out are random")
    p.add_argument("--interpolate", action="store_true", help="a strip of -n images between the noise of --seed "
                                                                "and --seed + 1")
    p.add_argument("--individual", metavar="DIR",
                   help=f"also write each image as DIR/000000.png ...; generated and written in chunks, so -n may be "
                        f"any size (the grid then shows the first {GRID_MAX})")
    p.add_argument("--show-levels", action="store_true", help="models with a levels view (LAPGAN): a panel with one "
                                                               "row per pyramid level, coarsest first (-n columns)")
    add_device(p)
    p.set_defaults(func=_sample)


def _sample(args) -> int:
    from ..use.load import load
    from ..files import output_file
    from ..resources import check_fits
    from ..viz import class_grid, class_grid_note, save_grid, save_image

    if args.num is not None and args.num < 1:
        raise UserError(f"-n must be positive, got {args.num}")
    if args.nrow is not None and args.nrow < 1:
        raise UserError(f"--nrow must be positive, got {args.nrow}")
    if args.seed is not None and not 0 <= args.seed < 2 ** 63:
        raise UserError(f"--seed must be in 0..2^63-1, got {args.seed}")
    out = output_file(args.output)
    folder = Path(args.individual) if args.individual else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise UserError(f"--individual {folder} is a file, not a folder")
    gen = load(args.checkpoint, "gan", args.device)
    asked = args.num   # None: 64 images, or 8 per row of a grid with one row per class (code value)
    if args.num is None and (args.show_levels or args.traverse or args.interpolate or gen.output == "clips"
                             or args.label is not None or args.code or not gen.axis[0]):
        args.num = 64
    if args.show_levels or gen.output == "clips":   # a pyramid's level panel; clips (GIF, MP4, strip)
        from . import sample_media

        return (sample_media.sample_levels if args.show_levels else sample_media.sample_clips)(gen, args, out)
    if args.interpolate and args.num > GRID_MAX:
        raise UserError(f"--interpolate draws one strip of -n images: at most {GRID_MAX}, got {args.num}")
    if args.traverse or args.interpolate:
        return _special(gen, args, out)
    labels = None if args.label is None else gen.label_index(args.label)
    codes = parse_codes(args.code, gen) if args.code else None
    c, h, w = gen.image_shape
    in_grid = min(args.num, GRID_MAX) if folder is not None else args.num
    rows, what = gen.axis if labels is None and codes is None else (0, "")
    if rows:   # one row per class (code value), always: -n grows to whole rows
        args.num, args.nrow, in_grid = class_grid(args.num, rows, args.nrow, GRID_MAX if folder else None)
        note = class_grid_note(asked, args.num, rows, args.nrow, what)
        if note:
            print(note)
    cols = args.nrow or math.ceil(math.sqrt(in_grid))
    up = max(1, 64 // w)
    grid_bytes = math.ceil(in_grid / cols) * cols * (h + 2) * (w + 2) * max(c, 3) * up * up
    check_fits(in_grid * (c * h * w * 4 + gen.latent_dim * 4) + 2 * grid_bytes,
               f"sample -n {args.num} ({in_grid:,} images of {c}x{h}x{w} in one grid)",
               "pass --individual DIR to stream any number of images to disk in chunks (the grid then shows the "
               f"first {GRID_MAX}), or a smaller -n")
    shown, written = [], 0
    import torch

    # without a label or codes: one row per class / code value (the rest of the codes random)
    for chunk in gen.iter_samples(args.num, seed=args.seed, labels=labels, codes=codes, rows=cols if rows else None):
        have = sum(len(s) for s in shown)
        if have < in_grid:
            shown.append(chunk[: in_grid - have])
        if folder is not None:
            for img in chunk:
                save_image(img, folder / f"{written:06d}.png")
                written += 1
    images = torch.cat(shown)[:in_grid]
    save_grid(images, out, nrow=args.nrow)
    print(f"wrote {out} ({len(images)} images, {tuple(images.shape[1:])}, step {gen.step} of {gen.path})")
    if folder is not None:
        print(f"wrote {written} images to {folder}/")
    return 0


def _special(gen, args, out) -> int:
    """--traverse (InfoGAN code sweep) or --interpolate (a strip between two seeds)."""
    from ..viz import save_grid

    seed = args.seed if args.seed is not None else 0
    if args.traverse:
        name = args.traverse.lower()
        if not (name.startswith("c") and name[1:].isdigit()):
            raise UserError(f"--traverse expects a continuous code name like c1, got {args.traverse!r}")
        cols = args.nrow or 8
        images = gen.traverse(name, cols, seed)
        what = f"{gen.axis[0]} {gen.axis[1]} values x {cols} values of {name}"
    else:
        cols = args.num
        images = gen.interpolate(args.num, seed, args.label)
        what = f"interpolation from seed {seed} to {seed + 1}"
    save_grid(images, out, nrow=cols)
    print(f"wrote {out} ({what}, step {gen.step} of {gen.path})")
    return 0


def parse_codes(items: list[str], gen) -> dict:
    """--code NAME=VALUE items -> {"cat": 3, "c1": 0.5}; names and values checked against the model."""
    spec = gen.code_spec
    if not spec:
        raise UserError(f"{gen.path} is a {gen.config.model} without codes: it takes no --code")
    codes = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in spec:
            raise UserError(f"--code expects NAME=VALUE with NAME one of {', '.join(spec)}, got {item!r}")
        try:
            codes[name] = float(value) if isinstance(spec[name], tuple) else int(value)
        except ValueError:
            raise UserError(f"--code {item!r}: {value!r} is not a number") from None
    return codes
