"""Run one training recipe over a grid of settings and seeds, each cell a subprocess of the real CLI
(`ganforge train`, then `ganforge eval`), so that a crash, a divergence or a Ctrl-C in one cell
costs only that cell, and a finished cell (its cell.json) is never trained again.

    DIR/recipe.json          the task and train flags; a resumed sweep must repeat them
    DIR/cells/<name>/        one run directory per cell, its train.log / eval.log, trained.json once
                             training ended, cell.json last (a finished cell)
    DIR/sweep.json           every cell and every row; sweep.md the table; sweep.png the plot
"""
from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from .. import config as C
from ..errors import UserError
from ..files import atomic_write


def parse_grid(items: list[str], cls) -> dict[str, list]:
    """['seed=0,1', 'precision=fp32,bf16'] -> {'seed': [0, 1], 'precision': ['fp32', 'bf16']}, each
    value checked against the task's config field as --set would check it. Values are split on
    commas, or on | where a value itself holds commas (hidden=32,32|64: two values)."""
    import yaml

    import dataclasses

    fields = {f.name for f in dataclasses.fields(cls)}
    grid: dict[str, list] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key or not raw.strip():
            raise UserError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise UserError(f"--grid names {key} twice")
        values = []
        for text in raw.split("|" if "|" in raw else ","):   # | when a value holds commas: hidden=32,32|64
            try:
                parsed = yaml.safe_load(text.strip())
            except yaml.YAMLError:
                raise UserError(f"--grid {key}: {text!r} is not a valid value") from None
            # a family's own flags are not fields of the task's config: resolve() checks those per cell
            values.append(C.coerce(cls, key, parsed, f"--grid {key}") if key in fields else parsed)
        if len(set(map(str, values))) != len(values):
            raise UserError(f"--grid {key} repeats a value")
        grid[key] = values
    return grid


def cells(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, in the order the axes were given."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def cell_name(setting: dict) -> str:
    return "_".join(f"{k}-{re.sub(r'[^A-Za-z0-9.+-]+', '-', str(v))}" for k, v in setting.items()) or "default"


class Sweep:
    """One sweep in `out`: task, train flags (a list of CLI strings), grid, eval count, parallel jobs."""

    def __init__(self, task: str, train_args: list[str], grid: dict[str, list], out: str, jobs: int = 1,
                 eval_num: int | None = None, threads: int | None = None):
        self.task, self.train_args, self.grid = task, list(train_args), grid
        self.out, self.jobs, self.eval_num = Path(out), jobs, eval_num
        total = threads or int(os.environ.get("OMP_NUM_THREADS", 0) or 0) or os.cpu_count() or 1
        self.threads = max(1, total // jobs)   # each cell's share: N cells at once must not fight for cores
        self.stopping = threading.Event()
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ set-up and resume
    def prepare(self) -> None:
        recipe = {"task": self.task, "train_args": self.train_args, "eval_num": self.eval_num}
        path = self.out / "recipe.json"
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            old = json.loads(path.read_text()) if path.is_file() else None
        except OSError as e:
            raise UserError(f"cannot use --out {self.out}: {e.strerror}") from None
        except ValueError:
            old = None
        if old is not None and old != recipe:
            what = next(k for k in recipe if recipe[k] != old.get(k))
            raise UserError(f"--out {self.out} holds a sweep of another recipe ({what}: {old.get(what)} vs "
                            f"{recipe[what]}); repeat its command to resume it, or choose another --out")
        path.write_text(json.dumps(recipe, indent=2) + "\n")

    def cell_dir(self, setting: dict) -> Path:
        return self.out / "cells" / cell_name(setting)

    def finished(self, setting: dict) -> dict | None:
        try:
            return json.loads((self.cell_dir(setting) / "cell.json").read_text())
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ running cells
    def _call(self, argv: list[str], log: Path) -> tuple[int, float]:
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        t0 = time.perf_counter()
        with open(log, "w") as f:
            proc = subprocess.Popen([sys.executable, "-m", "ganforge", *argv], stdout=f, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)   # our Ctrl-C reaches it through stop()
            with self._lock:
                self._procs.add(proc)
            try:
                rc = proc.wait()
            finally:
                with self._lock:
                    self._procs.discard(proc)
        return rc, time.perf_counter() - t0

    def stop(self) -> None:
        """Ask every running cell to stop (SIGINT to each child we started, by its pid)."""
        import signal

        self.stopping.set()
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            try:
                p.send_signal(signal.SIGINT)
            except OSError:
                pass

    def run_cell(self, setting: dict) -> dict | None:
        """Train and evaluate one cell; its record, or None when the sweep is being stopped."""
        import shutil

        d = self.cell_dir(setting)
        trained = d / "trained.json"   # written once training ended: a cut-off evaluation does not retrain
        try:
            rc, wall = (lambda t: (t["rc"], t["wall_s"]))(json.loads(trained.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            if d.exists():   # a cell cut off in training: start it again from nothing
                shutil.rmtree(d)
            d.mkdir(parents=True)
            sets = [a for k, v in setting.items() for a in ("--set", f"{k}={v}")]
            eval_flag = (["--eval-num", str(self.eval_num)] if self.eval_num and _has_field(self.task, "eval_num")
                         else [])
            rc, wall = self._call(["train", self.task, *self.train_args, *eval_flag, "--threads", str(self.threads),
                                   *sets, "--out", str(d), "--no-progress"], d / "train.log")
            if self.stopping.is_set():
                return None
            trained.write_text(json.dumps({"rc": rc, "wall_s": wall}) + "\n")
        record = {"name": d.name, "setting": setting, "wall_s": round(wall, 1), "status": "ok"}
        runs = sorted(p.parent for p in d.glob("*/config.yaml"))
        run = runs[-1] if runs else None
        record["run"] = str(run) if run else None
        record["precision"] = _precision(run)
        if rc != 0:
            record.update(status="failed", error=_error_line(d / "train.log", rc))
        elif _task_evaluates(self.task):
            argv = (["eval", str(run / "checkpoint.pt"), "--threads", str(self.threads)]
                    + (["--num", str(self.eval_num)] if self.eval_num else []))
            rc, record["eval_wall_s"] = self._call(argv, d / "eval.log")
            if self.stopping.is_set():
                return None
            from ..metrics.protocol import read_eval

            ev = read_eval(run / "checkpoint.pt") if rc == 0 else None
            if ev is None:
                record.update(status="failed", error="eval: " + _error_line(d / "eval.log", rc))
            else:
                record.update(metrics=_scores(ev["metrics"]), protocol=ev["protocol"])
        else:   # forecasters score themselves on their test part at the end of training
            summary = json.loads((run / "summary.json").read_text())
            record.update(metrics=_scores({k: v for k, v in summary.items() if k.startswith("test_")}),
                          protocol={"source": "summary.json (test part)"})
        atomic_write(d / "cell.json", lambda f: f.write(json.dumps(record, indent=2).encode() + b"\n"))
        return record

    def run(self, log=print) -> list[dict]:
        """Every cell of the grid (finished ones read back, the rest run, `jobs` at a time)."""
        self.prepare()
        todo = cells(self.grid)
        done = {cell_name(s): r for s in todo if (r := self.finished(s)) is not None}
        if done:
            log(f"resuming: {len(done)} of {len(todo)} cells already finished")
        pending_settings = [s for s in todo if cell_name(s) not in done]
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(self.run_cell, s): s for s in pending_settings}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for f in finished:
                        r = f.result()
                        if r is not None:
                            done[r["name"]] = r
                            what = "ok" if r["status"] == "ok" else f"FAILED ({r['error']})"
                            log(f"[{len(done)}/{len(todo)}] {r['name']}: {what}, {r['wall_s']:.0f} s")
            except KeyboardInterrupt:
                self.stop()
                for f in pending:
                    f.cancel()
                raise
        return [done[cell_name(s)] for s in todo]


def _has_field(task: str, name: str) -> bool:
    import dataclasses

    return name in {f.name for f in dataclasses.fields(C.TASKS[task])}


def _task_evaluates(task: str) -> bool:
    from . import task_module

    return hasattr(task_module(task), "evaluate")


def _scores(metrics: dict) -> dict:
    """The numbers a table compares: no counts, spreads of sub-samples or per-class entries."""
    skip = {"num", "num_real", "real_vs_real", "images"}
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
            and k not in skip and not k.endswith("_std") and "/" not in k}


def _precision(run: Path | None) -> str | None:
    try:
        return json.loads((run / "sessions.jsonl").read_text().splitlines()[0]).get("precision")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def _error_line(log: Path, rc: int) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or [f"exit code {rc}"])[-1][:300]
