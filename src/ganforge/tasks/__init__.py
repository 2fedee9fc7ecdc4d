"""One module per task, named after it (tasks/<task>.py, or a package): its objective
(build(cfg, rt) -> Objective), its loader (load(ckpt) -> a usable model; LOADER: its class, a
models.loader.Loaded that also says what an export carries) and usually
evaluate(ckpt, ...). The one task table is ganforge.config.TASKS (task -> config class)."""
from __future__ import annotations

import importlib

from ..errors import did_you_mean


def task_module(task: str):
    from ..config import TASKS

    if task not in TASKS:
        raise did_you_mean("task", task, TASKS)
    return importlib.import_module(f"{__name__}.{task}")


def train(task: str, cfg, ckpt: dict | None = None):
    """Train `task` with `cfg` (see engine.trainer.run); returns (run directory, summary)."""
    from ..engine.trainer import run

    return run(task_module(task).build, task, cfg, ckpt)
