"""ganforge train TASK: flags come from the task's config dataclass (ganforge.config.TASKS)."""
from __future__ import annotations

import argparse
import os

from .. import config as C

def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "train", "train a model; one sub-command per task",
                    "\n".join(cls.example.splitlines()[0] for cls in C.TASKS.values()))
    tasks = p.add_subparsers(dest="task", metavar="TASK")
    for task, cls in C.TASKS.items():
        t = add_command(tasks, task, cls.help, cls.example)
        C.add_arguments(t, cls)
        t.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its checkpoint.pt (--steps is the "
                       "new total; --device, --precision and the number of processes may differ)")
        t.set_defaults(func=_train, task_cls=cls)


def _train(args: argparse.Namespace) -> int:
    from ..engine.trainer import resume_config
    from ..tasks import train

    if args.resume:
        cfg, ckpt = resume_config(args.task, args.resume, args, args.config, args.overrides)
    else:
        cfg, ckpt = C.resolve(args.task_cls, args, args.config, args.overrides), None
    path, summary = train(args.task, cfg, ckpt)
    if os.environ.get("RANK", "0") == "0":
        _report(path, summary)
    return 0


def _report(path, summary: dict) -> None:
    print(f"run directory: {path}")
    for name, what in (("checkpoint.pt", "checkpoint"), ("best.pt", "best checkpoint"),
                       ("samples.png", "samples"), ("photos.png", "full-size photos"), ("losses.png", "loss curves"),
                       ("stats.jsonl", "stats")):
        if (path / name).exists():
            print(f"  {what:<16} {path / name}")
    for k, v in summary.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            print(f"  {k:<16} {v:.4g}")
