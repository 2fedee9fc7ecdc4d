"""The numbered run directory: config.yaml, stats.jsonl, samples/, checkpoints, plots."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .. import config as C
from ..errors import UserError
from ..files import atomic_write, remove_stale_temps


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

    def record_session(self, info: dict) -> None:
        """Append where and how this (re)start computes to sessions.jsonl: device, precision and
        process count may change on resume, and the run keeps what each part actually used."""
        if self.write:
            with open(self.path / "sessions.jsonl", "a") as f:
                f.write(json.dumps(info) + "\n")

    def truncate_stats(self, step: int) -> list[Path]:
        """On resume, undo what a killed run left after the checkpoint we resume from: log lines
        after its step (and a half-written last line), and atomic_write's temp files (a kill -9
        during a checkpoint write leaves one, megabytes each). Returns the temp files removed."""
        if not self.write:
            return []
        removed = remove_stale_temps(self.path) + remove_stale_temps(self.path / "samples")
        f = self.path / "stats.jsonl"
        if f.exists():
            keep = []
            for ln in f.read_text(errors="replace").splitlines():
                try:
                    if json.loads(ln).get("step", 0) <= step:
                        keep.append(ln)
                except (ValueError, AttributeError):   # cut off mid-line by a kill
                    pass
            atomic_write(f, lambda out: out.write("".join(ln + "\n" for ln in keep).encode()))
        if removed:
            import sys

            print(f"removed {len(removed)} temp file(s) left by an interrupted write: "
                  + ", ".join(p.name for p in removed[:3]), file=sys.stderr)
        return removed

    def sync(self) -> None:
        """Force stats.jsonl to disk (called before each checkpoint write, so the log on disk is
        complete up to every checkpoint even after a power cut)."""
        if self._stats is not None:
            self._stats.flush()
            os.fsync(self._stats.fileno())

    def log(self, step: int, stats: dict) -> None:
        if not self.write:
            return
        if self._stats is None:
            self._stats = open(self.path / "stats.jsonl", "a", buffering=1)   # line-buffered: kill -9 loses no line
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
