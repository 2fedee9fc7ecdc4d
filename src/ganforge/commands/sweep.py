"""ganforge sweep TASK [train flags...] --grid KEY=V1,V2 ... --out DIR: a training recipe over a grid
of settings and seeds (ganforge.tasks.sweep runs the cells, ganforge.metrics.sweep_report tabulates them)."""
from __future__ import annotations

import argparse

from .. import config as C
from ..errors import UserError

OWN = ("--grid", "--jobs", "--eval-num", "--out", "--threads")


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "sweep", "train and evaluate one recipe over a grid of settings and seeds; a table of "
                                  "median, worst and spread per setting",
                    "ganforge sweep gan --preset dcgan-mnist --grid seed=0,1,2 precision=fp32,bf16 --eval-num 2000 "
                    "--out sweeps/dcgan\n"
                    "ganforge sweep forecaster --epochs 20 --grid seed=0,1,2 'hidden=32|32,32' --out sweeps/f\n"
                    "(run the same command again to resume: finished cells are kept)")
    p.add_argument("task", choices=list(C.TASKS), help="the task to train (any train flag may follow)")
    p.add_argument("rest", nargs=argparse.REMAINDER,
                   help="train flags, and: --grid KEY=V1,V2 [KEY=...] (any config field, as --set takes it; "
                        "split values on | where they hold commas), --out DIR (required), --jobs N (cells at "
                        "once, default 1), --eval-num N (images per evaluation), --threads T (all cells "
                        "together; default $OMP_NUM_THREADS or the cores)")
    p.set_defaults(func=_sweep, sweep_parser=p)


def _own_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganforge sweep TASK", add_help=False)
    p.add_argument("--grid", nargs="+", default=[], metavar="KEY=V1,V2")
    p.add_argument("--out")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--eval-num", type=int)
    p.add_argument("--threads", type=int)
    return p


def _sweep(args) -> int:
    import signal

    from .. import models  # noqa: F401  (the families register their config groups, which resolve() needs)
    from ..tasks.sweep import Sweep, cells, parse_grid
    from ..metrics.sweep_report import write

    if "-h" in args.rest or "--help" in args.rest:   # REMAINDER keeps them from argparse
        args.sweep_parser.print_help()
        print(f"\ntrain flags: ganforge train {args.task} --help")
        return 0
    own, train_args = _own_parser().parse_known_args(args.rest)
    cls = C.TASKS[args.task]
    if not own.out:
        raise UserError("--out DIR is required: the folder the sweep's cells, table and plot go in")
    if not own.grid:
        raise UserError("--grid KEY=V1,V2 is required, e.g. --grid seed=0,1,2")
    if own.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {own.jobs}")
    if own.eval_num is not None and own.eval_num < 2:
        raise UserError(f"--eval-num must be at least 2, got {own.eval_num}")
    if own.threads is not None and own.threads < 1:
        raise UserError(f"--threads must be at least 1, got {own.threads}")
    for flag in ("--resume", "--progress", "--no-progress"):
        if flag in train_args:
            raise UserError(f"{flag} is the sweep's to set, not a train flag here")
    grid = parse_grid(own.grid, cls)
    _check_cells(args.task, cls, train_args, grid)
    sweep = Sweep(args.task, train_args, grid, own.out, own.jobs, own.eval_num, own.threads)
    # A kill stops the cells like Ctrl-C, and so does SIGINT when the sweep was started in the
    # background, where the shell set it to be ignored (training installs its own handler alike).
    old = {sig: signal.signal(sig, signal.default_int_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"sweep of {len(cells(grid))} cells in {own.out} ({own.jobs} at once, {sweep.threads} thread(s) each)",
              flush=True)
        results = sweep.run(log=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"sweep interrupted; run the same command again to resume (finished cells are kept in {own.out})")
        return 130
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    info = {"task": args.task, "train_args": train_args, "grid": grid, "eval_num": own.eval_num, "jobs": own.jobs,
            "threads": sweep.threads}
    _, md = write(sweep.out, info, results)
    print(md)
    print(f"written: {sweep.out / 'sweep.json'}, {sweep.out / 'sweep.md'}, {sweep.out / 'sweep.png'}")
    return 0


def _check_cells(task: str, cls, train_args: list[str], grid: dict) -> None:
    """Every cell's config resolves (flags, preset, grid values and their cross-checks) before any trains."""

    p = argparse.ArgumentParser(prog=f"ganforge sweep {task}", add_help=False, exit_on_error=False)
    C.add_arguments(p, cls)
    try:
        parsed, unknown = p.parse_known_args(train_args)
    except argparse.ArgumentError as e:
        raise UserError(f"train flag: {e}") from None
    if unknown:
        raise UserError(f"unknown train flag {unknown[0]!r} for ganforge train {task}")
    from ..tasks.sweep import cells

    C.resolve(cls, parsed, parsed.config, parsed.overrides)   # the train flags alone, named as such
    for setting in cells(grid):
        sets = [f"{k}={v}" for k, v in setting.items()]
        try:
            C.resolve(cls, parsed, parsed.config, [*parsed.overrides, *sets])
        except UserError as e:   # the grid's values reach the config as --set: name the flag the user typed
            raise UserError(str(e).replace("--set", f"--grid ({', '.join(sets)})", 1)) from None
