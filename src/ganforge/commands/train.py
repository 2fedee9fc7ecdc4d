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
        _registry_help(t, task, cls)


# The registry kind each task trains, and the flag that picks one of them.
KINDS = {"gan": ("gan", "--model"), "classifier": ("classifier", "--model"), "sr": ("sr", "--model"),
         "forecaster": ("forecaster", "--model"), "cyclegan": ("translator", "--generator")}


def _registry_help(parser: argparse.ArgumentParser, task: str, cls) -> None:
    """`train TASK --help` lists the registered models and the datasets the task reads, built from the
    model registry and data.catalog when the help is printed (so `ganforge --help` imports no torch,
    and no list can drift from what is registered)."""
    plain = parser.format_help

    def format_help() -> str:
        from .. import models
        from ..data.catalog import names_for

        kind, flag = KINDS.get(task, (task, "--model"))
        names = [e.name for e in models.entries(kind)]
        datasets = names_for(task)
        for action in parser._actions:
            if flag in action.option_strings and any(n not in action.help for n in names):
                action.help = f"{action.help.split(' (default')[0]}; registered: {', '.join(names)} " \
                              f"(default: {action.help.rsplit('(default: ', 1)[-1]}"
            if "--data" in action.option_strings and datasets:
                default = action.help.rsplit("(default: ", 1)[-1]
                action.help = f"dataset: {', '.join(datasets)} (see `ganforge datasets`) (default: {default}"
        if names:
            parser.description = f"{cls.help}\n\n{flag} (registered models): {', '.join(names)}"
        return plain()

    parser.format_help = format_help


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
    if isinstance(summary.get("verdict"), str):   # the model against its trivial baseline, in words
        print(f"  {'verdict':<16} " + summary["verdict"].replace("\n", "\n" + " " * 19))
