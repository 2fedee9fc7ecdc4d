"""One module per task: its objective (build(cfg, rt) -> Objective) and its loader
(load(ckpt) -> a usable model), both building their nets through the same function."""
from __future__ import annotations

import importlib

from ..errors import did_you_mean

# task -> module; each has build(cfg, rt), load(ckpt) and usually evaluate(ckpt, ...)
TASK_MODULES = {"gan": "ganforge.tasks.gan", "classifier": "ganforge.tasks.classifier",
                "cyclegan": "ganforge.tasks.cyclegan", "forecaster": "ganforge.tasks.forecaster"}
TASK_MODULES["sr"] = "ganforge.tasks.sr"


def task_module(task: str):
    if task not in TASK_MODULES:
        raise did_you_mean("task", task, TASK_MODULES)
    return importlib.import_module(TASK_MODULES[task])
