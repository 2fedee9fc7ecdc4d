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


TASKS_WITH_RECIPES = ("cyclegan", "classifier", "forecaster", "sr", "gan")


def tiny_recipe(task: str, model: str | None = None) -> dict:
    """The ganforge.train fields of a tiny run of `task`'s registered `model` (a forecaster's csv is
    added by train_tiny). Computed when tests are collected: a task without a recipe here raises,
    so a new kind of model fails collection instead of going missing from the registry tests."""
    if task == "cyclegan":
        return dict(steps=1, crop_size=24, load_size=28, width=2, sample_every=0, progress=False,
                    **({"generator": model} if model else {}))
    if task == "classifier":
        size = 16 if model == "cnn-cifar" else 8
        return dict(data="mnist5k", image_size=size, channels=1, width=2, batch_size=8, steps=1, eval_every=0,
                    progress=False, **({"model": model} if model else {}))
    if task == "forecaster":
        return dict(column="y", date_column="day", window=6, horizon=2, hidden="4", epochs=1, batch_size=16,
                    intervals="0.8", progress=False)
    if task == "sr":
        return dict(model=model or "srresnet", scale=2, data="synthetic:3x32x32:8", crop=16, width=4, d_width=4,
                    blocks=1, batch_size=4, steps=1, sample_every=0, progress=False)
    if task == "gan":
        return gan_kwargs(model)   # every GAN family declares its tiny run
    raise LookupError(f"no tiny run for task {task!r} (model {model!r}): add one to tests/tiny_models.py")


def train_tiny(kind: str, out: Path, model: str | None = None, nest: bool = True, **fields) -> Path:
    """A run directory of a tiny model: kind is a task (cyclegan, classifier, forecaster, gan) or a GAN
    model name; model picks the registered model of the task. nest: in a sub-folder of out per kind.
    fields: further training fields (device, precision, ...) over the tiny recipe."""
    import ganforge

    out = Path(out) if not nest else Path(out) / f"{kind}-{model}" if model else Path(out) / kind
    task = kind if kind in TASKS_WITH_RECIPES else "gan"
    recipe = tiny_recipe(task, model if task == kind else kind)
    if task == "forecaster":
        recipe["csv"] = str(series_csv((out.parent if nest else out) / "series.csv"))
    return ganforge.train(task, out=str(out), **{**recipe, **fields})


def command_runs(root: Path) -> dict:
    """A tiny run of each kind the checkpoint commands take, and a photo (the GAN on 28 px mnist5k,
    so `eval` has the embedded classifier as its extractor)."""
    from PIL import Image

    photo = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(photo).save(root / "photo.png")
    return {"root": root, "photo": root / "photo.png",
            "gan": train_tiny("gan", root, "mlp", data="mnist5k", image_size=28, channels=1),
            "cyclegan": train_tiny("cyclegan", root), "sr": train_tiny("sr", root),
            "forecaster": train_tiny("forecaster", root)}


def command_argv(command: str, runs: dict, out: Path) -> list[str]:
    """The command line of `command` on its tiny run (command_runs), writing under out."""
    return {"sample": ["sample", str(runs["gan"]), "-n", "4", "-o", str(out / "grid.png"), "--seed", "0"],
            "translate": ["translate", str(runs["cyclegan"]), str(runs["photo"]), "-o", str(out / "t.png")],
            "upscale": ["upscale", str(runs["sr"]), str(runs["photo"]), "-o", str(out / "u.png")],
            "eval": ["eval", str(runs["gan"]), "--num", "16"],
            "forecast": ["forecast", str(runs["forecaster"]), "-o", str(out / "f.csv")],
            "serve": ["serve", str(runs["gan"]), str(runs["forecaster"]), "--runs", str(out)]}[command]


def probe(model, forecast_csv: bool = False):
    """What the model computes on a fixed input, through its own API (a tensor); forecast_csv: a
    forecaster continues its training CSV in original units instead of running its net on noise."""
    import torch

    g = torch.Generator().manual_seed(5)
    if hasattr(model, "sample"):
        return model.sample(4, seed=0)
    if hasattr(model, "translate"):
        return model.translate(torch.rand(1, 3, 24, 28, generator=g) * 2 - 1)
    if hasattr(model, "upscale"):
        return model.upscale(torch.randint(0, 256, (1, 3, 12, 12), generator=g, dtype=torch.uint8))
    if hasattr(model, "forecast") and forecast_csv:
        return torch.tensor(model.forecast(model.config.csv).iloc[:, 1:].to_numpy())
    if hasattr(model, "forecast"):
        with torch.no_grad():
            return model.net(torch.rand(3, model.window, model.net.n_inputs, generator=g))
    return model.logits(torch.rand(2, *model.image_shape, generator=g) * 2 - 1)
