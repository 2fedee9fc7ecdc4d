"""x4 super-resolution on held-out images: PSNR / SSIM (Y, BT.601, border crop 4; and RGB) of
bicubic, srresnet and srgan in one table, plus a side-by-side panel.

    .venv/bin/python benchmarks/sr_x4.py --photos RUN_SRRESNET RUN_SRGAN --mnist RUN_SRRESNET RUN_SRGAN -o DIR

Held-out sets: the right 25% of each embedded photo (never cropped for training), the eleven
photos in benchmarks/sr_photos/ (scikit-image's CC0 / public-domain images, see NOTICE; never
trained on) and the mnist5k test split (1,000 digits, as RGB). Writes DIR/table.md and
DIR/panel.png (columns: low-res shown with nearest-neighbour upscaling, bicubic, srresnet, srgan,
original). Not part of `make test`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ganforge import api
from ganforge.data.paired import bicubic, downscale, load_sr_images, mod_crop
from ganforge.tasks.sr import score

HERE = Path(__file__).parent
METRICS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb")


def held_out(spec: str) -> list[torch.Tensor]:
    _, images = load_sr_images(spec, "test")
    return [mod_crop(img, 4) for img in images]


def table(rows: list[tuple[str, str, dict]]) -> str:
    out = ["| held-out set | method | PSNR Y (dB) | SSIM Y | PSNR RGB (dB) | SSIM RGB |", "|---|---|---|---|---|---|"]
    for data, method, s in rows:
        out.append(f"| {data} | {method} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} | {s['psnr_rgb']:.2f} | "
                   f"{s['ssim_rgb']:.4f} |")
    return "\n".join(out)


def panel(crops: list[tuple[torch.Tensor, list]], path: Path, cell: int = 192) -> None:
    """One row per HR crop uint8 (3, S, S): LR (nearest), bicubic, each model, original; cells
    enlarged by an integer nearest-neighbour factor so pixels stay visible."""
    from PIL import Image, ImageDraw

    labels = ["low-res (nearest)", "bicubic", "srresnet", "srgan", "original"]
    gap, top = 6, 18
    img = Image.new("RGB", (len(labels) * (cell + gap), top + len(crops) * (cell + gap)), "white")
    draw = ImageDraw.Draw(img)
    for j, label in enumerate(labels):
        draw.text((j * (cell + gap) + 4, 3), label, fill="black")
    for i, (hr, ups) in enumerate(crops):
        lr = downscale(hr[None], 4)
        cols = [lr.repeat_interleave(4, -1).repeat_interleave(4, -2), bicubic(lr, 4),
                *[u.upscale(lr) for u in ups], hr[None]]
        for j, x in enumerate(cols):
            k = max(1, cell // x.shape[-1])
            tile = x[0].repeat_interleave(k, -1).repeat_interleave(k, -2).permute(1, 2, 0).numpy()
            img.paste(Image.fromarray(tile), (j * (cell + gap), top + i * (cell + gap)))
    img.save(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", nargs=2, required=True, metavar=("SRRESNET", "SRGAN"), help="runs trained on photos")
    p.add_argument("--mnist", nargs=2, required=True, metavar=("SRRESNET", "SRGAN"), help="runs trained on mnist5k")
    p.add_argument("-o", "--out", default="sr-bench", help="output folder")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photos = [api.load(r) for r in args.photos]
    digits = [api.load(r) for r in args.mnist]
    sets = [("embedded photos, right 25% (4)", held_out("photos"), photos),
            ("sr_photos (11)", held_out(f"folder:{HERE / 'sr_photos'}"), photos),
            ("mnist5k test (1,000)", held_out("mnist5k"), digits)]
    rows = []
    for name, images, ups in sets:
        scores = [score(u, images) for u in ups]
        rows.append((name, "bicubic", {k: scores[0][f"bicubic_{k}"] for k in METRICS}))
        rows += [(name, method, s) for method, s in zip(("srresnet", "srgan"), scores)]
        print(table(rows[-3:]).splitlines()[-3:], flush=True)
    text = table(rows)
    (out / "table.md").write_text(text + "\n")
    print(text)
    photo_sets = {name: imgs for name, imgs, _ in sets}
    first, more, mnist = (photo_sets[n] for n, _, _ in sets)
    crops = [(first[0][:, 200:296, 0:96], photos), (first[3][:, 150:246, 16:112], photos),
             (more[4][:, 60:156, 60:156], photos), (more[0][:, 80:176, 80:176], photos),
             (more[8][:, 0:96, 100:196], photos), (mnist[0], digits), (mnist[1], digits)]
    panel(crops, out / "panel.png")
    print(f"wrote {out / 'table.md'} and {out / 'panel.png'}")


if __name__ == "__main__":
    main()
