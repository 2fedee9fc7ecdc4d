"""The one training loop behind every task: progress bar, stats.jsonl / TensorBoard, sample
snapshots, periodic evaluation with best.pt, checkpoints, resume, NaN guard, clean Ctrl-C.

A task is an Objective: it owns its nets, optimisers and data sampling, and does one step.
The loop owns everything around the step. Rank 0 alone writes files (DDP-ready).
"""
from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import time
from pathlib import Path

import torch

from .. import config as C
from ..errors import TrainingDiverged, UserError
from . import checkpoint


class Objective:
    """One training task. Subclasses set `task`, `modules`, `optimizers`, implement train_step,
    and may override snapshot / evaluate / finish / extra state.

    best: (metric name, "min" | "max") that evaluate() returns and best.pt tracks, or None.
    """

    task: str = "?"
    unit: str = "images"            # what batch_size counts, for the <unit>_per_s stat
    best: tuple[str, str] | None = None

    def __init__(self, cfg, rank: int = 0, world: int = 1):
        self.cfg, self.rank, self.world = cfg, rank, world
        self.modules: dict[str, torch.nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def train_step(self, step: int) -> dict[str, float]:
        raise NotImplementedError

    def snapshot(self, run: "RunDir", step: int) -> None:
        """Write sample images for `step` (rank 0 only)."""

    def evaluate(self, step: int) -> dict[str, float]:
        return {}

    def finish(self, run: "RunDir") -> dict:
        """Final plots and summary metrics; returned dict is printed and kept in summary.json."""
        return {}

    def meta(self) -> dict:
        """What a later load() needs besides the config (image shape, classes, scaler, ...)."""
        return {}

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def autocast(self):
        if self.cfg.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)   # the nets live on the CPU
        return contextlib.nullcontext()

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
            "extra": self.extra_state(),
            "rng": {"torch": torch.get_rng_state()},
            "metrics": metrics or {},
        }

    def load_state(self, ckpt: dict) -> None:
        for k, m in self.modules.items():
            checkpoint.unwrap(m).load_state_dict(ckpt["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(ckpt["optimizers"][k])
        self.load_extra_state(ckpt.get("extra", {}))
        torch.set_rng_state(ckpt["rng"]["torch"])


def adam(params, lr: float, betas=(0.9, 0.999), weight_decay: float = 0.0, decoupled: bool = False):
    """Adam (AdamW with decoupled=True) using the fused one-kernel update where this torch offers it
    for these parameters (CPU since torch 2.4): same maths as the default per-tensor loop, whose
    dispatch cost is most of an optimiser step for small nets (a GRU forecaster: 0.9 ms -> 0.2 ms)."""
    params, cls = list(params), torch.optim.AdamW if decoupled else torch.optim.Adam
    try:
        return cls(params, lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr, betas=betas, weight_decay=weight_decay)


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX). Without it oneDNN emulates
    bf16 and autocast makes conv nets several times slower than fp32 (measured 5x on AVX2)."""
    cpu = torch.cpu
    return any(getattr(cpu, f, lambda: False)() for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def resolve_precision(cfg) -> None:
    """Turn --precision auto into what this machine runs best; warn when bf16 would be emulated."""
    if cfg.precision == "auto":
        cfg.precision = "bf16" if native_bf16() else "fp32"
        print(f"precision auto: {cfg.precision} ({'' if cfg.precision == 'bf16' else 'no '}native bf16 on this CPU)",
              file=sys.stderr)
    elif cfg.precision == "bf16" and not native_bf16():
        print("warning: this CPU has no native bf16 (AVX-512 BF16 or AMX): bf16 autocast is emulated and "
              "usually several times slower than --precision fp32", file=sys.stderr)


class RunDir:
    """runs/<task>-0001/: config.yaml, stats.jsonl, samples/, checkpoint.pt, best.pt, plots."""

    def __init__(self, path: Path, write: bool = True):
        self.path, self.write = Path(path), write
        self._stats = None
        self._tb = None

    @classmethod
    def create(cls, out: str, task: str, write: bool = True) -> "RunDir":
        root = Path(out)
        if not write:
            return cls(root / f"{task}-rank", write=False)
        try:
            root.mkdir(parents=True, exist_ok=True)
            n = 1 + max((int(p.name.rsplit("-", 1)[1]) for p in root.glob(f"{task}-[0-9]*")
                         if p.name.rsplit("-", 1)[1].isdigit()), default=0)
            path = root / f"{task}-{n:04d}"
            path.mkdir()
            probe = path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise UserError(f"cannot write to output folder {root}: {e.strerror}; choose another with --out") from None
        return cls(path)

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    def save_config(self, cfg) -> None:
        import yaml

        if self.write:
            (self.path / "config.yaml").write_text(yaml.safe_dump(C.to_dict(cfg), sort_keys=False))

    def truncate_stats(self, step: int) -> None:
        """On resume, drop log lines written after the checkpoint we resume from."""
        f = self.path / "stats.jsonl"
        if self.write and f.exists():
            keep = [ln for ln in f.read_text().splitlines() if ln and json.loads(ln).get("step", 0) <= step]
            f.write_text("".join(ln + "\n" for ln in keep))

    def log(self, step: int, stats: dict) -> None:
        if not self.write:
            return
        if self._stats is None:
            self._stats = open(self.path / "stats.jsonl", "a")
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.path / "tb"))
            except ImportError:   # tensorboard is an optional extra
                self._tb = None
        self._stats.write(json.dumps({"step": step, **{k: round(v, 6) for k, v in stats.items()}}) + "\n")
        if self._tb is not None:
            for k, v in stats.items():
                self._tb.add_scalar(k, v, step)

    def read_stats(self) -> list[dict]:
        f = self.path / "stats.jsonl"
        if self._stats is not None:
            self._stats.flush()
        return [json.loads(ln) for ln in f.read_text().splitlines() if ln] if f.exists() else []

    def close(self) -> None:
        if self._stats is not None:
            self._stats.close()
            self._stats = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


class _StopFlag:
    """First Ctrl-C asks the loop to stop after the current step; a second one kills."""

    def __init__(self):
        self.set = False

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:   # not the main thread
            self._old = None
        return self

    def _handle(self, *_):
        if self.set:
            raise KeyboardInterrupt
        self.set = True
        print("\nstopping after this step and saving a checkpoint (Ctrl-C again to abort)", file=sys.stderr)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def fit(obj: Objective, run: RunDir, start_step: int = 0, best_value: float | None = None) -> dict:
    """Train obj from start_step to cfg.steps. Returns the summary dict."""
    cfg = obj.cfg
    write = obj.rank == 0
    best_name, best_mode = obj.best or (None, None)
    eval_every = getattr(cfg, "eval_every", 0)
    patience = getattr(cfg, "patience", 0)
    since_best = 0
    last_good = start_step if run.checkpoint.exists() else None

    def save(step, path=None, metrics=None):
        nonlocal last_good
        if write:
            checkpoint.save(path or run.checkpoint, obj.state(step, metrics))
        if path is None:
            last_good = step

    from tqdm import tqdm

    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (cfg.progress and write), unit="step",
               dynamic_ncols=True, desc=obj.task, file=sys.stderr,
               mininterval=0.5 if sys.stderr.isatty() else 20)   # keep CI logs short
    rate = None
    step = start_step
    stopped_early = interrupted = False
    with _StopFlag() as stop:
        for step in range(start_step + 1, cfg.steps + 1):
            t0 = time.perf_counter()
            stats = obj.train_step(step - 1)
            dt = time.perf_counter() - t0
            bad = [k for k, v in stats.items() if not math.isfinite(v)]
            if bad:
                bar.close()
                where = (f"the last good checkpoint is {run.checkpoint} (step {last_good})" if last_good is not None
                         else "no checkpoint was written yet")
                raise TrainingDiverged(f"{bad[0]} became {stats[bad[0]]} at step {step}; training stopped and "
                                       f"{where}. Try a lower --lr, another --loss, or --precision fp32.")
            inst = cfg.batch_size * obj.world / max(dt, 1e-9)
            rate = inst if rate is None else 0.9 * rate + 0.1 * inst
            stats[f"{obj.unit}_per_s"] = rate
            if step % cfg.log_every == 0:
                run.log(step, stats)
            if step % 10 == 0 or step == cfg.steps:
                bar.set_postfix({k: f"{v:.3g}" for k, v in list(stats.items())[:4]}, refresh=False)
            bar.update(1)
            if write and cfg.sample_every and step % cfg.sample_every == 0:
                obj.snapshot(run, step)
            if eval_every and step % eval_every == 0:
                metrics = obj.evaluate(step)
                run.log(step, metrics)
                value = metrics.get(best_name)
                if value is not None and (best_value is None or (value < best_value if best_mode == "min"
                                                                  else value > best_value)):
                    best_value, since_best = value, 0
                    save(step, run.path / "best.pt", metrics)
                else:
                    since_best += 1
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
                if patience and since_best >= patience:
                    stopped_early = True
            if step % cfg.ckpt_every == 0 or step == cfg.steps or stopped_early or stop.set:
                save(step, metrics={"best": best_value} if best_value is not None else None)
            if stopped_early or stop.set:
                interrupted = stop.set
                break
    bar.close()
    if interrupted:
        run.close()
        raise UserError(f"interrupted at step {step}; checkpoint saved. Continue with: "
                        f"ganforge train {obj.task} --resume {run.path}")
    summary = {"step": step, "stopped_early": stopped_early}
    if best_value is not None:
        summary[f"best_{best_name}"] = best_value
    if write:
        if cfg.sample_every == 0 or step % cfg.sample_every:
            obj.snapshot(run, step)
        summary.update(obj.finish(run))
        (run.path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    run.close()
    return summary
