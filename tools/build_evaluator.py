"""Rebuild src/ganforge/data/builtin/cnn-small-mnist5k.pt, the embedded classifier that
`ganforge eval` uses for classifier-FID of MNIST generators when Inception is not available.

    .venv/bin/python tools/build_evaluator.py          # ~1-2 minutes on one CPU core

It trains cnn-small on the mnist5k train split (4,000 images; seed 0, the default 1,500 steps)
with the ordinary `ganforge train classifier` code, prints its accuracy on the 1,000 held-out
images, and keeps only what loading needs (config, meta, weights): no optimizer state.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ganforge import config as C  # noqa: E402
from ganforge.nn import checkpoint  # noqa: E402
from ganforge.tasks import train  # noqa: E402

DEST = ROOT / "src/ganforge/data/builtin/cnn-small-mnist5k.pt"


def main() -> None:
    torch.set_num_threads(1)   # bit-for-bit the same weights on every machine is not promised, but close
    with tempfile.TemporaryDirectory() as tmp:
        cfg = C.resolve(C.ClassifierConfig, model="cnn-small", data="mnist5k", seed=0, out=tmp, progress=False)
        path, summary = train("classifier", cfg)
        ckpt = checkpoint.load(path / "checkpoint.pt", "classifier")
    slim = {k: ckpt[k] for k in ("task", "config", "step", "meta", "modules")}
    slim["config"] = {**slim["config"], "out": "runs"}
    slim["modules"] = {k: {n: t.clone() for n, t in sd.items()} for k, sd in slim["modules"].items()}
    slim.update(optimizers={}, extra={}, rng={}, metrics={"val_acc": summary["val_acc"]})
    checkpoint.save(DEST, slim)
    print(f"wrote {DEST} ({DEST.stat().st_size / 1e3:.0f} kB); held-out accuracy {summary['val_acc']:.4f}")


if __name__ == "__main__":
    main()
