"""Start or resume a training run of any task, in one process or under torchrun. The engine knows no
task: run() is handed the task's build(cfg, rt) -> Objective (ganforge.tasks.train looks it up)."""
from __future__ import annotations

import gc
import time
from pathlib import Path

from .. import config as C
from ..errors import UserError
from ..nn import checkpoint
from .loop import fit
from .rundir import RunDir
from .runtime import Runtime


def resume_config(task: str, resume, args=None, config_file=None, overrides=(), **fields):
    """(config, checkpoint) for continuing the run `resume`: the checkpoint's config is the bottom
    layer under --config, flags, --set and keyword fields; only RESUMABLE fields may change."""
    cls = C.TASKS[task]
    ckpt = checkpoint.load(resume, task)
    saved = ckpt.get("config")
    if not isinstance(saved, dict):
        raise UserError(f"{ckpt['path']} holds no config; it cannot be resumed")
    cfg = C.resolve(cls, args, config_file, overrides, base=saved, base_source=f"checkpoint {ckpt['path']}", **fields)
    old = C.resolve(cls, base=saved, base_source=f"checkpoint {ckpt['path']}")
    for name in C.to_dict(cfg):
        if name not in cls.RESUMABLE and getattr(cfg, name) != getattr(old, name):
            raise UserError(f"{C.flag_name(name)} cannot change when resuming (checkpoint has {getattr(old, name)!r}); "
                            f"only {', '.join(C.flag_name(n) for n in sorted(cls.RESUMABLE))} can")
    if ckpt["step"] >= cfg.steps:
        raise UserError(f"{ckpt['path']} is already at step {ckpt['step']}; pass --steps larger than that "
                        "(--steps is the total)")
    return cfg, ckpt


def run(build, task: str, cfg=None, ckpt: dict | None = None) -> tuple[Path, dict]:
    """Train with `cfg` (a config dataclass) the objective build(cfg, rt) makes, from scratch or from the
    checkpoint `ckpt` (see resume_config); `task` names the run directory (runs/<task>-NNNN). Every rank
    under torchrun calls this; returns (run directory, summary)."""
    rt = Runtime.from_config(cfg)
    ok, obj = False, None
    try:
        rt.seed_rank(cfg.seed)
        obj = build(cfg, rt)
        if ckpt is not None:
            obj.load_state(ckpt)
            run_dir = RunDir(Path(ckpt["path"]).parent, write=rt.is_main)
            run_dir.truncate_stats(ckpt["step"])
            start, best = ckpt["step"], ckpt.get("metrics", {}).get("best")
            best_info = ckpt.get("metrics", {})
        else:
            run_dir = RunDir.create(cfg.out, task, write=rt.is_main)
            run_dir.save_config(cfg)
            start, best, best_info = 0, None, None
        run_dir = RunDir(Path(rt.broadcast(str(run_dir.path))), write=rt.is_main)
        run_dir.record_session({"started_at_step": start, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                **rt.describe(), **getattr(obj, "data_info", {})})
        summary = fit(obj, run_dir, start, best, best_info)
        ok = True
    finally:
        # Let the DDP wrappers (and the gloo work they hold) go while the interpreter is whole, so the
        # process group is torn down here and not during interpreter exit, where it can abort a rank.
        # (A full collection takes a quarter of a second; a single process has no group to tear down.)
        obj = None
        if rt.distributed:
            gc.collect()
        rt.close(ok)
    return run_dir.path, summary

