"""The Python API; the CLI is a thin layer over these functions.

    run_dir = ganforge.train("gan", preset="dcgan-mnist", data="mnist5k", steps=2000)
    gen = ganforge.load(run_dir / "checkpoint.pt")
    images = gen.sample(16, seed=0)
    gen = ganforge.load(run_dir, device="cuda")   # nets on the GPU; sample() still returns CPU tensors
"""
from __future__ import annotations

from pathlib import Path

from . import config as C
from .errors import UserError
from .use.load import load, rebuild  # noqa: F401  (public: ganforge.load)


def train(task: str = "gan", resume: str | Path | None = None, config_file: str | None = None, **fields) -> Path:
    """Train a task ("gan", ...) with config fields as keyword arguments; returns the run dir.
    With resume=RUN_DIR it continues that run (fields may then change steps, logging, device
    and precision)."""
    from . import models  # noqa: F401  (GAN families register their flags and defaults)
    from .engine.trainer import resume_config
    from .tasks import train as run_task

    if task not in C.TASKS:
        raise UserError(f"unknown task {task!r}; choose from: {', '.join(C.TASKS)}")
    if resume is not None:
        cfg, ckpt = resume_config(task, resume, config_file=config_file, **fields)
    else:
        cfg, ckpt = C.resolve(C.TASKS[task], config_file=config_file, **fields), None
    return run_task(task, cfg, ckpt)[0]


def sample(checkpoint: str | Path, n: int = 64, seed: int | None = None, device="cpu"):
    """n generated images (n, C, H, W) in [-1, 1], on the CPU, from a GAN checkpoint computed on
    `device` (auto | cpu | cuda | cuda:N)."""
    return load(checkpoint, "gan", device).sample(n, seed=seed)


def forecast(checkpoint: str | Path, csv=None, horizon: int | None = None, device="cpu"):
    """Continue a series with a forecaster checkpoint: a DataFrame of dated forecasts in original
    units. csv: a path or DataFrame with the training columns (None: the training CSV)."""
    model = load(checkpoint, "forecaster", device)
    return model.forecast(csv if csv is not None else (model.config.csv or None), horizon)


def translate(checkpoint: str | Path, source: str | Path, output: str | Path, direction: str = "AtoB",
              batch_size: int = 8, size: int | None = None, strict: bool = False, log=print,
              tile: int | None = None, device="cpu"):
    """Translate an image file or every image under a folder with a CycleGAN checkpoint, at each
    image's own resolution (or scaled to short side `size`; in `tile` px parts); names are kept.
    Returns (written paths, [(unreadable path, reason)])."""
    from .use.translate import translate_paths

    return translate_paths(load(checkpoint, "cyclegan", device), source, output, direction, batch_size, size, strict,
                           log, tile)


def upscale(checkpoint: str | Path, source: str | Path, output: str | Path, scale: int | None = None,
            tile: int | None = 128, strict: bool = False, log=print, device="cpu"):
    """Super-resolve an image file or every image under a folder with an sr checkpoint (srresnet /
    srgan), in overlapping `tile` px parts (None: whole images); names are kept. scale must be the
    checkpoint's (None: take it). Returns (written paths, [(unreadable path, reason)])."""
    from .use.upscale import upscale_paths

    return upscale_paths(load(checkpoint, device=device), source, output, scale, tile, strict, log)


def serve(checkpoints=(), host: str = "127.0.0.1", port: int = 7860, runs: str | Path | None = "runs",
          max_upload_mb: float = 10.0, device="cpu") -> None:
    """A local web page (gradio, `pip install 'ganforge[serve]'`) with one tab per checkpoint and a
    runs dashboard of the run directories under `runs`; serves until Ctrl-C."""
    from .use.serve import serve as run

    run(checkpoints, host, port, runs, max_upload_mb, device)
