"""ganforge features: the feature maps of each conv stage of a trained classifier for one image."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "features", "show the feature maps of each conv stage of a trained classifier for one image",
                    "ganforge features runs/classifier-0001/checkpoint.pt digit.png -o maps.png\n"
                    "ganforge features runs/classifier-0001 --index 7 -o maps.png   # held-out image 7")
    p.add_argument("checkpoint", help="a classifier checkpoint, or its run directory")
    p.add_argument("image", nargs="?", help="image file (default: held-out image --index of the training dataset)")
    p.add_argument("--index", type=int, default=0, help="which held-out image when no IMAGE is given (default 0)")
    p.add_argument("--maps", type=int, default=16, help="feature maps shown per stage (default 16)")
    p.add_argument("-o", "--output", default="maps.png", help="figure to write (default maps.png)")
    p.set_defaults(func=_features)


def _features(args) -> int:
    from ..files import output_file
    from ..use.load import load
    from ..viz.plots import plot_feature_maps

    if not 1 <= args.maps <= 1024:
        raise UserError(f"--maps must be in 1..1024, got {args.maps}")
    out = output_file(args.output)
    clf = load(args.checkpoint, "classifier")
    if args.image:
        path = Path(args.image)
        if not path.is_file():
            raise UserError(f"image {path} " + ("is a folder, not an image file" if path.is_dir() else "does not exist"))
        image, title = clf.read(path), path.name
    else:
        from ..data import load_images, to_float

        c, size, _ = clf.image_shape
        data = load_images(clf.dataset, "test" if clf.dataset.partition(":")[0] != "folder" else "train", c, size)
        if not 0 <= args.index < len(data):
            raise UserError(f"--index must be in 0..{len(data) - 1}, got {args.index}")
        image, title = to_float(data.images[args.index]), f"{clf.dataset} held-out #{args.index}"
    if args.maps < 1:
        raise UserError(f"--maps must be positive, got {args.maps}")
    maps = clf.feature_maps(image)
    probs = clf.logits(image[None])[0].softmax(0)
    top = int(probs.argmax())
    cols = min(args.maps, max(m.shape[0] for m in maps))
    for row, m in enumerate(maps, 1):
        print(f"stage {row}: {m.shape[0]} maps of {m.shape[1]}x{m.shape[2]}")
    plot_feature_maps(image, maps, f"predicted {clf.classes[top]!r} ({100 * probs[top]:.1f}%)",
                      f"{clf.name}: feature maps for {title}", cols, out)
    print(f"predicted {clf.classes[top]!r} ({100 * probs[top]:.1f}%)")
    print(f"wrote {out}")
    return 0
