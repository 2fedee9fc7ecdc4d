"""Tiny checkpoints of every model kind, trained a step or two through the API (shared by the
export and serve tests)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

def gan_models() -> list[str]:
    from ganforge import models

    return [e.name for e in models.entries("gan")]


def gan_kwargs(model: str) -> dict:
    """The tiny run the family declares with its registration (models/family.py: Family.tiny)."""
    from ganforge import models

    return dict(model=model, **{**models.get(model, "gan").family.tiny_run(), "steps": 1})


def series_csv(path: Path) -> Path:
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(120)
    pd.DataFrame({"day": pd.date_range("2021-01-01", periods=120).strftime("%Y-%m-%d"),
                  "y": np.sin(t / 4) + 0.02 * t}).to_csv(path, index=False)
    return path


# registry kind -> the task that trains it
TASK_OF_KIND = {"gan": "gan", "translator": "cyclegan", "classifier": "classifier", "forecaster": "forecaster"}


def registry_cases() -> list[tuple[str, str]]:
    """(task, model name) for every registered model a task trains (discriminators come with their task)."""
    from ganforge import models

    return [(TASK_OF_KIND.get(e.kind, e.kind), e.name) for e in models.entries() if e.kind != "discriminator"]


def train_tiny(kind: str, out: Path, model: str | None = None, nest: bool = True) -> Path:
    """A run directory of a tiny model: kind is a task (cyclegan, classifier, forecaster, gan) or a GAN
    model name; model picks the registered model of the task. nest: in a sub-folder of out per kind."""
    import ganforge

    out = Path(out) if not nest else Path(out) / f"{kind}-{model}" if model else Path(out) / kind
    if kind == "cyclegan":
        return ganforge.train("cyclegan", steps=1, crop_size=24, load_size=28, width=2, sample_every=0,
                              progress=False, out=str(out), **({"generator": model} if model else {}))
    if kind == "classifier":
        size = 16 if model == "cnn-cifar" else 8
        return ganforge.train("classifier", data="mnist5k", image_size=size, channels=1, width=2, batch_size=8,
                              steps=1, eval_every=0, progress=False, out=str(out),
                              **({"model": model} if model else {}))
    if kind == "forecaster":
        csv = series_csv((out.parent if nest else out) / "series.csv")
        return ganforge.train("forecaster", csv=str(csv), column="y", date_column="day", window=6, horizon=2,
                              hidden="4", epochs=1, batch_size=16, intervals="0.8", progress=False, out=str(out))
    if kind == "sr":
        return ganforge.train("sr", model=model or "srresnet", scale=2, data="synthetic:3x32x32:8", crop=16,
                              width=4, d_width=4, blocks=1, batch_size=4, steps=1, sample_every=0, progress=False,
                              out=str(out))
    if kind == "gan":
        kind = model
    return ganforge.train("gan", out=str(out), **gan_kwargs(kind))   # every GAN family declares its tiny run
