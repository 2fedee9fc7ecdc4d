"""ganforge sample CHECKPOINT: images from a trained generator, no architecture flags needed."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "sample", "generate an image grid (and optionally single images) from a GAN checkpoint",
                    "ganforge sample runs/gan-0001/checkpoint.pt -n 64 -o grid.png --seed 1\n"
                    "ganforge sample runs/gan-0001 -n 100 -o grid.png --individual samples/")
    p.add_argument("checkpoint", help="a checkpoint file, or a run directory holding checkpoint.pt")
    p.add_argument("-n", "--num", type=int, default=64, help="number of images (default 64)")
    p.add_argument("-o", "--output", default="samples.png", help="grid PNG to write (default samples.png)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")
    p.add_argument("--nrow", type=int, default=None, help="images per grid row (default: square)")
    p.add_argument("--individual", metavar="DIR", help="also write each image as DIR/000000.png ...")
    p.set_defaults(func=_sample)


def _sample(args) -> int:
    from ..api import load
    from ..viz import save_grid, save_image

    gen = load(args.checkpoint, "gan")
    images = gen.sample(args.num, seed=args.seed)
    out = Path(args.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_grid(images, out, nrow=args.nrow)
        if args.individual:
            folder = Path(args.individual)
            folder.mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(images):
                save_image(img, folder / f"{i:06d}.png")
    except (OSError, ValueError) as e:
        raise UserError(f"cannot write {out}: {e}") from None
    print(f"wrote {out} ({len(images)} images, {tuple(images.shape[1:])}, step {gen.step} of {gen.path})")
    if args.individual:
        print(f"wrote {len(images)} images to {args.individual}/")
    return 0
