"""The shared fixture folder of tests/test_bad_inputs.py: a tiny trained checkpoint of every task,
damaged copies of them, and every kind of bad file (images, configs, CSVs, packed datasets, videos)."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.cli import main

GAN = ["--data", "synthetic:1x28x28:64", "--width", "8", "--latent-dim", "8", "--batch-size", "8"]
CYC = ["--crop-size", "32", "--load-size", "36", "--width", "4", "--sample-every", "0"]
CLF = ["--data", "mnist5k", "--image-size", "8", "--channels", "1", "--width", "2", "--batch-size", "8",
       "--eval-every", "0"]
FCST = ["--csv", "W/s.csv", "--column", "y", "--window", "6", "--epochs", "1", "--hidden", "4", "--batch-size", "8"]
TRAIN_FLAGS = {"gan": GAN, "classifier": CLF, "cyclegan": CYC, "forecaster": FCST}
SR = ["--data", "synthetic:3x32x32:8", "--crop", "16", "--width", "4", "--d-width", "4", "--blocks", "1",
      "--batch-size", "2", "--sample-every", "0"]


def png_claiming(path: Path, w: int, h: int) -> None:
    """A 60-byte PNG whose header claims w x h pixels (what a decompression bomb looks like)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def photo(path: Path, size=(40, 40), color=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def damaged(src: Path, dst: Path, edit) -> None:
    ckpt = torch.load(src, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, dst)


def _wrong_shape(ckpt):
    # every net's first weight, so the one a command reads (G, or its average G_ema) does not fit
    for weights in ckpt["modules"].values():
        name = next(k for k, v in weights.items() if v.ndim >= 1)
        weights[name] = torch.zeros(*(s + 1 for s in weights[name].shape))


@pytest.fixture(scope="module")
def W(tmp_path_factory):
    """One folder with a trained tiny checkpoint of every task and every kind of bad file."""
    w = tmp_path_factory.mktemp("bad")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANFORGE_CACHE", str(w / "cache"))
        mp.chdir(w)
        import pandas as pd

        t = np.arange(160)
        pd.DataFrame({"day": pd.date_range("2020-01-01", periods=160).strftime("%Y-%m-%d"),
                      "y": np.sin(t / 5) + 0.01 * t}).to_csv(w / "s.csv", index=False)
        flags = {k: [a.replace("W/", f"{w}/") for a in v] for k, v in TRAIN_FLAGS.items()}
        for task in ("gan", "classifier", "cyclegan", "forecaster"):
            assert main(["train", task, "--steps", "2", "--no-progress", "--out", str(w / "runs"), *flags[task]]) == 0
        assert main(["train", "sr", "--steps", "2", "--no-progress", "--out", str(w / "runs"), *SR]) == 0
        ckpts = {task: w / "runs" / f"{task}-0001" / "checkpoint.pt" for task in TRAIN_FLAGS}
        for task, src in ckpts.items():
            damaged(src, w / f"{task}-shape.pt", _wrong_shape)
            damaged(src, w / f"{task}-nometa.pt", lambda c: c.pop("meta"))
            damaged(src, w / f"{task}-noconfig.pt", lambda c: c.pop("config"))
            damaged(src, w / f"{task}-emptymeta.pt", lambda c: c.update(meta={}))
            damaged(src, w / f"{task}-badconfig.pt", lambda c: c["config"].update(bogus_key=1))
            damaged(src, w / f"{task}-nanlr.pt", lambda c: c["config"].update(lr=float("nan")))
            damaged(src, w / f"{task}-step.pt", lambda c: c.update(step=-5))
            wrong = {"gan": ("image_shape", "abc"), "classifier": ("classes", None), "cyclegan": ("image_size", [1]),
                     "forecaster": ("conformal", "abc")}[task]
            damaged(src, w / f"{task}-metatype.pt", lambda c: c["meta"].update([wrong]))
        data = ckpts["gan"].read_bytes()
        (w / "trunc.pt").write_bytes(data[: len(data) // 2])
        torch.save({"weights": torch.zeros(2)}, w / "foreign.pt")
        (w / "text.pt").write_text("not a checkpoint")
        (w / "emptydir").mkdir()
    # images
    png_claiming(w / "bomb.png", 100_000, 100_000)
    (w / "text.png").write_text("not an image")
    good = photo(w / "good.png").read_bytes()
    (w / "trunc.png").write_bytes(good[: len(good) // 2])
    (w / "dir.png").mkdir()
    photo(w / "big.png", (100, 100))
    photo(w / "tiny.png", (6, 30))
    for name in ("a.png", "b.png", "sub/c.png", "...png"):
        photo(w / "mixed" / name)
    png_claiming(w / "mixed" / "bomb.png", 100_000, 100_000)
    with pytest.MonkeyPatch.context() as mp:   # packed datasets (issue 19): a shard missing, a newer format
        mp.setenv("GANFORGE_CACHE", str(w / "cache"))
        from ganforge.data.packed import pack_folder

        for name in ("packed-noshard", "packed-newer"):
            pack_folder(w / "mixed", w / name, size=16, progress=False)
        (w / "packed-noshard" / "images-00000.npy").unlink()
        manifest = json.loads((w / "packed-newer" / "manifest.json").read_text())
        (w / "packed-newer" / "manifest.json").write_text(json.dumps({**manifest, "version": 99}))
    (w / "mixed" / "text.png").write_text("not an image")
    # config files, CSVs, a regular file where a folder must be
    (w / "latin1.yaml").write_bytes(b"lr: 0.001 # \xe9t\xe9\n\xff\xfe\n")
    (w / "list.yaml").write_text("- 1\n- 2\n")
    (w / "broken.yaml").write_text("lr: [1, 2\n")
    (w / "yamldir.yaml").mkdir()
    (w / "latin1.csv").write_bytes(b"day,y\n2020-01-01,1\n2020-01-02,\xff\xfe\n")
    (w / "csvdir.csv").mkdir()
    t = np.arange(60)     # issue 26: CSVs whose dates or delimiter need a flag
    days = pd.date_range("2020-01-01", periods=60)
    pd.DataFrame({"day": pd.date_range("2015-01-01", periods=60, freq="MS").strftime("%d/%m/%Y"),
                  "y": t}).to_csv(w / "ambiguous.csv", index=False)
    pd.DataFrame({"day": [*days[:40].strftime("%d/%m/%Y"), *days[40:].strftime("%m/%d/%Y")],
                  "y": t}).to_csv(w / "inconsistent.csv", index=False)
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "y": np.sin(t / 5)}).drop(index=range(10, 20)).to_csv(
        w / "gaps.csv", index=False)
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "y": np.sin(t / 5)}).to_csv(w / "semi.csv", index=False, sep=";")
    (w / "afile").write_text("a regular file")
    for i in range(2):   # videos (issue 13): a 2-frame clip (shorter than --frames 4), a GIF that cannot be decoded
        photo(w / "short" / "clip" / f"{i}.png")
    (w / "bad.gif").write_bytes(b"GIF89a" + b"\0" * 16)
    return w


def R(name: str) -> str:
    return f"runs/{name}-0001"
