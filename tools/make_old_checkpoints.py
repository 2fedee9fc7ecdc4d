"""Write tests/data/old/: a tiny checkpoint of every task and GAN family in today's format, and the
outputs each gives for a fixed seed, so that later refactors can prove old checkpoints still load
and give the same outputs (tests/test_old_checkpoints.py).

    PYTHONPATH=src OMP_NUM_THREADS=1 python tools/make_old_checkpoints.py [tests/data/old]

Each case is trained for two steps at a tiny width; the checkpoint keeps its optimiser state (so it
also resumes). Outputs: <name>.out.pt, a dict of tensors (see outputs()).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

GAN = dict(width=4, latent_dim=8, batch_size=8, steps=2, progress=False, sample_every=0, ema=0.0, seed=0)
SYN16 = "synthetic:1x16x16:16"

# name -> (task, training fields). Family flags stay at the config's top level, as today.
CASES = {
    "gan-mlp": ("gan", dict(model="mlp", data=SYN16, **dict(GAN, width=2))),
    "gan-convgan": ("gan", dict(model="convgan", data="synthetic:3x32x32:16", **GAN)),
    "gan-dcgan": ("gan", dict(model="dcgan", data=SYN16, **GAN)),
    "gan-lsgan": ("gan", dict(model="lsgan", data=SYN16, **GAN)),
    "gan-cgan": ("gan", dict(model="cgan", data="mnist5k", image_size=16, channels=1, cond="projection", **GAN)),
    "gan-acgan": ("gan", dict(model="acgan", data="mnist5k", image_size=16, channels=1, backbone="mlp",
                              **dict(GAN, width=2))),
    "gan-infogan": ("gan", dict(model="infogan", data="mnist5k", image_size=16, channels=1, cat_codes=4,
                                cont_codes=2, info_warp=0.5, info_real=0.5, **GAN)),
    "gan-lapgan": ("gan", dict(model="lapgan", data="synthetic:1x28x28:16", **GAN)),
    "gan-videogan": ("gan", dict(model="videogan", data="moving-mnist", frames=4, **GAN)),
    "cyclegan": ("cyclegan", dict(steps=2, crop_size=24, load_size=28, width=2, sample_every=0, progress=False)),
    "sr-srresnet": ("sr", dict(model="srresnet", scale=2, data="synthetic:3x32x32:8", crop=16, width=4, d_width=4,
                               blocks=1, batch_size=4, steps=2, sample_every=0, progress=False)),
    "sr-srgan": ("sr", dict(model="srgan", scale=2, data="synthetic:3x32x32:8", crop=16, width=4, d_width=2,
                            blocks=1, batch_size=4, steps=2, sample_every=0, progress=False)),
    "classifier": ("classifier", dict(data="mnist5k", image_size=8, channels=1, width=2, batch_size=8, steps=2,
                                      eval_every=0, progress=False)),
    "forecaster": ("forecaster", dict(column="y", date_column="day", window=6, horizon=2, hidden="4", epochs=1,
                                      batch_size=16, intervals="0.8", progress=False)),
}


def series_csv(path: Path) -> Path:
    import pandas as pd

    t = np.arange(120)
    pd.DataFrame({"day": pd.date_range("2021-01-01", periods=120).strftime("%Y-%m-%d"),
                  "y": np.sin(t / 4) + 0.02 * t}).to_csv(path, index=False)
    return path


def outputs(model, task: str) -> dict[str, torch.Tensor]:
    """What a loaded model gives for seed 0 (the test recomputes these from the stored checkpoint)."""
    g = torch.Generator().manual_seed(0)
    if task == "gan":
        out = {"sample": model.sample(4, seed=0)}
        if getattr(model, "num_classes", 0):
            out["sample_label1"] = model.sample(4, seed=1, labels=1)
        return out
    if task == "cyclegan":
        x = torch.rand(2, 3, 24, 24, generator=g) * 2 - 1
        return {"AtoB": model.translate(x, "AtoB"), "BtoA": model.translate(x, "BtoA")}
    if task == "sr":
        return {"upscale": model.upscale(torch.randint(0, 256, (1, 3, 12, 12), generator=g, dtype=torch.uint8))}
    if task == "classifier":
        return {"logits": model.logits(torch.rand(4, *model.image_shape, generator=g) * 2 - 1)}
    if task == "forecaster":
        window, inputs = model.config.window, model.net.n_inputs if hasattr(model.net, "n_inputs") else 1
        return {"net": model.net.eval()(torch.randn(3, window, inputs, generator=g)).detach()}
    raise ValueError(task)


def main(out: Path) -> None:
    import ganforge

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (task, fields) in CASES.items():
            run_out = Path(tmp) / name
            if task == "forecaster":
                run_out.mkdir()
                fields = dict(fields, csv=str(series_csv(run_out / "series.csv")))
            run = ganforge.train(task, out=str(run_out), **fields)
            shutil.copy(run / "checkpoint.pt", out / f"{name}.pt")
            model = ganforge.load(out / f"{name}.pt")
            torch.save(outputs(model, task), out / f"{name}.out.pt")
            print(f"{name}: {(out / f'{name}.pt').stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "tests" / "data" / "old")
