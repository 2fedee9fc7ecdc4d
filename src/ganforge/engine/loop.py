"""The one training loop behind every task: progress bar, stats.jsonl / TensorBoard, sample
snapshots, periodic evaluation with best.pt, checkpoints, resume, NaN guard, clean Ctrl-C.

A task is an Objective: it owns its nets, optimisers and data sampling, and does one step
through its Runtime (device, precision, DDP). The loop owns everything around the step. Under
torchrun every rank runs the loop; rank 0 alone writes files, evaluates and draws samples, and
every decision that ends a run (NaN, Ctrl-C, early stop) is taken by all ranks alike.
"""
from __future__ import annotations

import json
import math
import signal
import sys
import time

import torch

from .. import config as C
from ..errors import RunStopped, TrainingDiverged, UserError
from ..files import DiskFull
from ..metrics.protocol import check_same
from ..nn import checkpoint
from .rundir import RunDir
from .runtime import Runtime


class Objective:
    """One training task. Subclasses set `task`, `modules` (plain, prepared nets: what is saved and
    evaluated), `optimizers`, implement train_step (calling self.rt.update for each optimiser
    step), and may override snapshot / evaluate / finish / extra state.

    best: (metric name, "min" | "max") that evaluate() returns and best.pt tracks, or None.
    """

    task: str = "?"
    unit: str = "images"            # what batch_size counts, for the <unit>_per_s stat
    best: tuple[str, str] | None = None

    def __init__(self, cfg, rt: Runtime | None = None):
        self.cfg, self.rt = cfg, rt or Runtime.from_config(cfg)
        self.modules: dict[str, torch.nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @property
    def rank(self) -> int:
        return self.rt.rank

    @property
    def world(self) -> int:
        return self.rt.world

    def local_batch(self) -> int:
        """This process's share of the global --batch-size."""
        bs, world = self.cfg.batch_size, self.rt.world
        if bs % world:
            raise UserError(f"--batch-size {bs} does not divide evenly over {world} processes; "
                            f"use a multiple of {world}")
        return bs // world

    def train_step(self, step: int) -> dict[str, float]:
        raise NotImplementedError

    def snapshot(self, run: RunDir, step: int) -> None:
        """Write sample images for `step` (rank 0 only)."""

    def evaluate(self, step: int) -> dict[str, float]:
        """Held-out metrics (rank 0 only; the loop shares them with the other ranks)."""
        return {}

    def finish(self, run: RunDir) -> dict:
        """Final plots and summary metrics (rank 0 only); returned dict is printed and kept in summary.json."""
        return {}

    def meta(self) -> dict:
        """What a later load() needs besides the config (image shape, classes, scaler, ...)."""
        return {}

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def autocast(self):
        return self.rt.autocast()

    # -- checkpoint payload
    def state(self, step: int, metrics: dict | None = None) -> dict:
        return {
            "task": self.task,
            "config": C.to_dict(self.cfg),
            "step": step,
            "meta": self.meta(),
            "modules": {k: checkpoint.strip_prefixes(checkpoint.unwrap(m).state_dict())
                        for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scalers": self.rt.scaler_states(self.optimizers),
            "extra": self.extra_state(),
            "rng": self.rt.rng_state(),
            "runtime": self.rt.describe(),
            "metrics": metrics or {},
        }

    def load_state(self, ckpt: dict) -> None:
        for k, m in self.modules.items():
            checkpoint.load_module(checkpoint.unwrap(m), ckpt, k)
        for k, o in self.optimizers.items():
            o.load_state_dict(ckpt["optimizers"][k])
        self.rt.load_scaler_states(self.optimizers, ckpt.get("scalers", {}))
        self.load_extra_state(ckpt.get("extra", {}))
        self.rt.set_rng_state(ckpt["rng"], ckpt["step"])


def adam(params, lr: float, betas=(0.9, 0.999), weight_decay: float = 0.0, decoupled: bool = False):
    """Adam (AdamW with decoupled=True) using the fused one-kernel update where this torch offers it
    for these parameters (CPU since torch 2.4): same maths as the default per-tensor loop, whose
    dispatch cost is most of an optimiser step for small nets (a GRU forecaster: 0.9 ms -> 0.2 ms)."""
    params, cls = list(params), torch.optim.AdamW if decoupled else torch.optim.Adam
    try:
        return cls(params, lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr, betas=betas, weight_decay=weight_decay)


class _StopFlag:
    """First Ctrl-C (or SIGTERM) asks the loop to stop after the current step and save; a second
    Ctrl-C aborts. Under torchrun, where the launcher passes a Ctrl-C on to workers that already
    got it from the terminal, repeats are ignored: every rank must reach the same last step."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, distributed: bool = False, quiet: bool = False):
        self.set, self.distributed, self.quiet, self._old = False, distributed, quiet, {}

    def __enter__(self):
        for sig in self.SIGNALS:
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:   # not the main thread
                pass
        return self

    def _handle(self, signum, _frame):
        if self.set:
            if signum == signal.SIGINT and not self.distributed:
                raise KeyboardInterrupt
            return
        self.set = True
        if not self.quiet:
                print("\nstopping after this step and saving a checkpoint"
                  + ("" if self.distributed else " (Ctrl-C again to abort)"), file=sys.stderr)

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


class _DivergenceGuard:
    """Counts consecutive steps in which some loss (a stat whose name contains "loss") is larger in
    magnitude than `bound`; update() is True once that has lasted `window` steps. A lone spike (a
    bf16 MLP GAN's D loss reaches ~540) passes; --lr 1e9, which drives losses to 1e18, does not."""

    def __init__(self, bound: float, window: int):
        self.bound, self.window = bound, max(1, window)
        self.count, self.since, self.worst = 0, None, None

    def update(self, step: int, stats: dict) -> bool:
        if not self.bound:
            return False
        over = [(k, v) for k, v in stats.items() if "loss" in k and abs(v) > self.bound]
        if not over:
            self.count, self.since = 0, None
            return False
        if self.count == 0:
            self.since = step
        self.count += 1
        self.worst = max(over, key=lambda kv: abs(kv[1]))
        return self.count >= self.window

    def describe(self, step: int) -> str:
        name, value = self.worst
        return (f"{name} stayed above {self.bound:g} in magnitude for {self.count} steps (steps {self.since}-{step}; "
                f"{value:.3g} at step {step})")


def fit(obj: Objective, run: RunDir, start_step: int = 0, best_value: float | None = None,
        best_info: dict | None = None) -> dict:
    """Train obj from start_step to cfg.steps on every rank. Returns the summary dict.

    best_info: on resume, the checkpoint's record of best.pt ({"best_step", "protocol"})."""
    cfg, rt = obj.cfg, obj.rt
    write = rt.is_main
    best_name, best_mode = obj.best or (None, None)
    eval_every = getattr(cfg, "eval_every", 0)
    patience = getattr(cfg, "patience", 0)
    since_best = 0
    best_step, best_protocol = (best_info or {}).get("best_step"), (best_info or {}).get("protocol")
    last_eval: tuple[int, dict] | None = None
    last_good = start_step if run.checkpoint.exists() else None
    guard = _DivergenceGuard(getattr(cfg, "diverge_bound", 0.0), getattr(cfg, "diverge_window", 0))
    save_due = False   # a periodic checkpoint held back while a loss is past the bound

    def save(step, path=None, metrics=None):
        nonlocal last_good
        if write:
            run.sync()   # stats.jsonl on disk up to this step first: a kill -9 loses no logged step before it
            try:
                checkpoint.save(path or run.checkpoint, obj.state(step, metrics))
            except DiskFull as e:   # atomic_write kept the previous file; say where it is and how to go on
                then = (f"the last good checkpoint {run.checkpoint} (step {last_good}) is intact; free some space, "
                        f"then continue with: ganforge train {obj.task} --resume {run.path}" if last_good is not None
                        else "no checkpoint was written yet; free some space and start again")
                raise DiskFull(e.path, e.free, then) from None
        if path is None:
            last_good = step

    from tqdm import tqdm

    t_fit = time.perf_counter()   # training wall time, kept in summary.json (model cards report it)
    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (cfg.progress and write), unit="step",
               dynamic_ncols=True, desc=obj.task, file=sys.stderr,
               mininterval=0.5 if sys.stderr.isatty() else 20)   # keep CI logs short
    rate = None
    step = start_step
    stopped_early = interrupted = False
    with _StopFlag(rt.distributed, quiet=not write) as stop:
        for step in range(start_step + 1, cfg.steps + 1):
            t0 = time.perf_counter()
            stats = rt.mean(obj.train_step(step - 1))   # a NaN on any rank makes the mean NaN on all
            request = getattr(obj, "stop_request", None)   # the objective asks to end the run (e.g. a collapse)
            dt = time.perf_counter() - t0
            bad = [k for k, v in stats.items() if not math.isfinite(v)]
            if bad:
                bar.close()
                where = (f"the last good checkpoint is {run.checkpoint} (step {last_good})" if last_good is not None
                         else "no checkpoint was written yet")
                raise TrainingDiverged(f"{bad[0]} became {stats[bad[0]]} at step {step}; training stopped and "
                                       f"{where}. Try a lower --lr, another --loss, or --precision fp32.")
            if guard.update(step, stats):   # a loss past the bound for the whole window: as bad as a NaN
                bar.close()
                where = (f"the last good checkpoint is {run.checkpoint} (step {last_good}, written before the loss "
                         "left the bound)" if last_good is not None else
                         f"no checkpoint was written before step {guard.since}, so none is kept")
                raise TrainingDiverged(f"{guard.describe(step)}; training stopped and {where}. Try a lower --lr, "
                                       "another --loss, or --precision fp32 (--diverge-bound 0 turns this check off).")
            inst = cfg.batch_size / max(dt, 1e-9)
            rate = inst if rate is None else 0.9 * rate + 0.1 * inst
            stats[f"{obj.unit}_per_s"] = rate
            if step % cfg.log_every == 0:
                run.log(step, stats)
            if step % 10 == 0 or step == cfg.steps:
                bar.set_postfix({k: f"{v:.3g}" for k, v in list(stats.items())[:4]}, refresh=False)
            bar.update(1)
            if write and cfg.sample_every and step % cfg.sample_every == 0:
                obj.snapshot(run, step)
            if eval_every and (step % eval_every == 0 or step == cfg.steps):   # the last checkpoint has a score too
                metrics = rt.broadcast(obj.evaluate(step) if write else None)
                run.log(step, metrics)
                last_eval = (step, metrics)
                protocol = getattr(obj, "eval_protocol", None)
                if best_value is not None and protocol is not None and best_protocol is not None:
                    check_same([(f"best.pt (step {best_step})", best_protocol), (f"step {step}", protocol)],
                               f"{best_name} scores")
                value = metrics.get(best_name)
                if value is not None and (best_value is None or (value < best_value if best_mode == "min"
                                                                  else value > best_value)):
                    best_value, best_step, best_protocol, since_best = value, step, protocol, 0
                    save(step, run.path / "best.pt", {**metrics, "best": value, "best_step": step,
                                                       "protocol": protocol})
                else:
                    since_best += 1
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())) if write else None
                if patience and since_best >= patience:
                    stopped_early = True
            stopping = rt.any(stop.set or request is not None)
            best_record = ({"best": best_value, "best_step": best_step, "protocol": best_protocol}
                           if best_value is not None else None)
            if step == cfg.steps or stopped_early or stopping:
                save(step, metrics=best_record)
            elif step % cfg.ckpt_every == 0 or save_due:
                # While a loss is past the bound, the periodic checkpoint waits until it comes back, so
                # the checkpoint a divergence leaves behind is one written before the window began.
                save_due = guard.count > 0
                if not save_due:
                    save(step, metrics=best_record)
            if stopped_early or stopping:
                interrupted = stopping
                break
    bar.close()
    if interrupted:
        run.close()
        why = f"stopped: {request}" if request else "interrupted"
        raise RunStopped(f"{why} at step {step}; checkpoint saved. Continue with: "
                        f"ganforge train {obj.task} --resume {run.path}")
    summary = {"step": step, "stopped_early": stopped_early,
               "train_wall_s": round(_earlier_wall(run, start_step) + time.perf_counter() - t_fit, 3)}
    if best_value is not None:   # best.pt beside the last checkpoint: GAN runs often get worse late
        summary[f"best_{best_name}"] = best_value
        if best_step is not None:
            summary["best_step"] = best_step
        if last_eval is not None and last_eval[1].get(best_name) is not None:
            summary[f"last_eval_{best_name}"], summary["last_eval_step"] = last_eval[1][best_name], last_eval[0]
    if write:
        if cfg.sample_every == 0 or step % cfg.sample_every:
            obj.snapshot(run, step)
        summary.update(obj.finish(run))
        (run.path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    run.close()
    return summary


def _earlier_wall(run: RunDir, start_step: int) -> float:
    """Wall time of the sessions before a resume, as the last finished one recorded it (0 for a fresh run;
    a session killed before its end recorded none)."""
    if start_step == 0:
        return 0.0
    try:
        value = json.loads((run.path / "summary.json").read_text()).get("train_wall_s", 0.0)
    except (OSError, ValueError, AttributeError):
        return 0.0
    return float(value) if isinstance(value, (int, float)) else 0.0
