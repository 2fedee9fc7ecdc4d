"""Start or resume a training run of any task."""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import torch

from .. import config as C
from ..errors import UserError
from . import checkpoint
from .loop import RunDir, fit, resolve_precision

# task -> module with build(cfg, rank, world) -> Objective and load(ckpt) -> usable model
TASK_MODULES = {"gan": "ganforge.train.gan", "classifier": "ganforge.train.classifier", "cyclegan": "ganforge.train.cyclegan",
                "forecaster": "ganforge.train.forecaster"}

# Fields that may change when resuming; anything else must match the checkpoint.
RESUMABLE = {"steps", "progress", "log_every", "sample_every", "ckpt_every", "eval_every", "patience"}


def task_module(task: str):
    if task not in TASK_MODULES:
        raise UserError(f"unknown task {task!r}; choose from: {', '.join(TASK_MODULES)}")
    return importlib.import_module(TASK_MODULES[task])


def run(task: str, cfg=None, resume: str | Path | None = None, changed: dict | None = None):
    """Train `task` with `cfg` (a config dataclass), or resume the run directory `resume`
    with the fields in `changed` updated. Returns (run directory, summary dict)."""
    module = task_module(task)
    rank, world = 0, 1
    if resume is not None:
        ckpt = checkpoint.load(resume, task)
        values = dict(ckpt["config"])
        for k, v in (changed or {}).items():
            if k not in RESUMABLE and v != values.get(k):
                raise UserError(f"--{k.replace('_', '-')} cannot change when resuming "
                                f"(checkpoint has {values.get(k)!r}); only {', '.join(sorted(RESUMABLE))} can")
            values[k] = v
        cfg = C.from_dict(C.TASKS[task], values, f"checkpoint {ckpt['path']}")
        if ckpt["step"] >= cfg.steps:
            raise UserError(f"{ckpt['path']} is already at step {ckpt['step']}; pass --steps larger than that "
                            "(--steps is the total)")
    resolve_precision(cfg)
    torch.manual_seed(cfg.seed)
    obj = module.build(cfg, rank, world)
    if resume is not None:
        obj.load_state(ckpt)
        run_dir = RunDir(Path(ckpt["path"]).parent, write=rank == 0)
        run_dir.truncate_stats(ckpt["step"])
        start, best = ckpt["step"], ckpt.get("metrics", {}).get("best")
    else:
        run_dir = RunDir.create(cfg.out, task, write=rank == 0)
        run_dir.save_config(cfg)
        start, best = 0, None
    summary = fit(obj, run_dir, start, best)
    return run_dir.path, summary


class _CallableModule(types.ModuleType):
    """`ganforge.train(...)` is the public API, but importing this sub-package makes
    `ganforge.train` name the module; calling the module therefore calls api.train."""

    def __call__(self, *args, **kwargs):
        from ..api import train

        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
