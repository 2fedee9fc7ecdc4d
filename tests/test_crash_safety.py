"""A full disk and kill -9 (issue 16): the previous checkpoint survives, the message says where it is,
the log is complete up to every checkpoint, and the next start cleans up and resumes."""
from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganforge.cli import main
from ganforge.nn import checkpoint
from ganforge.errors import UserError
from ganforge.files import DiskFull, atomic_write

TINY = ["--data", "synthetic:1x28x28:64", "--width", "8", "--latent-dim", "8", "--batch-size", "8", "--no-progress",
        "--sample-every", "0"]


class _FillsUp:
    """A file object that accepts `room` bytes and then fails like a full disk."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def __getattr__(self, name):
        return getattr(self.f, name)


def disk_fills_up(monkeypatch, room: int, which=lambda name: True):
    """From now on, files that atomic_write opens (for names where which(name)) hold only `room` bytes."""
    import ganforge.files as files

    real = os.fdopen

    def fdopen(fd, *a, **k):
        f = real(fd, *a, **k)
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
        return _FillsUp(f, room) if which(os.path.basename(name)) else f

    monkeypatch.setattr(files.os, "fdopen", fdopen)


def steps_logged(run: Path) -> list[int]:
    return [json.loads(ln)["step"] for ln in (run / "stats.jsonl").read_text().splitlines()]


def test_disk_full_during_a_checkpoint_keeps_the_previous_one_and_says_so(tmp_path, monkeypatch, capsys):
    real_save, calls = torch.save, []

    def save(obj, f, *a, **k):   # the disk fills up during the first checkpoint: the second cannot be written
        calls.append(obj["step"])
        if len(calls) == 1:
            disk_fills_up(monkeypatch, 2048, lambda name: name.startswith("checkpoint.pt."))
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    disk_fills_up(monkeypatch, 1 << 40)
    assert main(["train", "gan", "--steps", "4", "--ckpt-every", "2", "--out", "r", *TINY]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected pos" not in err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1, err
    run = tmp_path / "r" / "gan-0001"
    assert "the disk is full: could not write r/gan-0001/checkpoint.pt" in lines[0]
    assert "the last good checkpoint r/gan-0001/checkpoint.pt (step 2) is intact" in lines[0]
    assert "ganforge train gan --resume r/gan-0001" in lines[0]
    monkeypatch.undo()   # space freed: the previous checkpoint is whole and the resume carries on
    assert checkpoint.load(run)["step"] == 2
    assert not list(run.glob("*.tmp"))
    assert main(["train", "gan", "--resume", str(run), "--steps", "4", "--no-progress"]) == 0
    assert checkpoint.load(run)["step"] == 4 and steps_logged(run) == [1, 2, 3, 4]


def test_disk_full_writing_an_output_file(tmp_path, monkeypatch, capsys):
    import ganforge.files as files

    assert main(["train", "gan", "--steps", "1", "--out", "r", *TINY]) == 0
    (tmp_path / "grid.png").write_bytes(b"old grid")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)   # where delayed allocation reports a full disk
    assert main(["sample", "r/gan-0001", "-n", "4", "-o", "grid.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "the disk is full: could not write grid.png" in err
    assert (tmp_path / "grid.png").read_bytes() == b"old grid" and not list(tmp_path.glob("*.tmp"))


def test_atomic_write_turns_enospc_into_diskfull_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"previous")

    def like_torch(f):   # torch.save reports a failed write as this RuntimeError, losing the OSError
        try:
            f.write(b"x" * 100)
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0") from None

    disk_fills_up(monkeypatch, 10)
    with pytest.raises(DiskFull, match="the disk is full: could not write"):
        atomic_write(path, like_torch)
    monkeypatch.undo()
    def broken(f):
        raise RuntimeError("a bug, not a full disk")

    with pytest.raises(RuntimeError, match="a bug"):   # other errors keep their own type
        atomic_write(path, broken)
    assert path.read_bytes() == b"previous" and list(tmp_path.iterdir()) == [path]
    assert isinstance(DiskFull(path), UserError)


# --------------------------------------------------------------------------- kill -9

def _start(tmp_path: Path, code: str) -> subprocess.Popen:
    env = {**os.environ, "GANFORGE_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(cond, proc, timeout=60.0):
    t0 = time.time()
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early with code {proc.returncode}")
        if time.time() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


TRAIN = ("from ganforge.cli import main; main(['train', 'gan', '--steps', '100000', '--ckpt-every', '5', "
         "'--out', 'r', " + ", ".join(repr(a) for a in TINY) + "])")


def _check_resume(run: Path, capsys) -> None:
    step = checkpoint.load(run)["step"]
    logged = steps_logged(run)
    assert set(range(1, step + 1)) <= set(logged), "the log must be complete up to the checkpoint"
    assert main(["train", "gan", "--resume", str(run), "--steps", str(step + 3), "--no-progress"]) == 0
    assert not [p for p in run.iterdir() if p.suffix == ".tmp"]
    assert steps_logged(run) == list(range(1, step + 4))   # every step once: nothing lost, nothing twice
    assert checkpoint.load(run)["step"] == step + 3


@pytest.mark.slow
def test_kill_9_at_a_random_moment_then_resume(tmp_path, capsys):
    proc = _start(tmp_path, TRAIN)
    run = tmp_path / "r" / "gan-0001"
    _wait_for(lambda: (run / "checkpoint.pt").exists(), proc)
    time.sleep(random.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _check_resume(run, capsys)


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_checkpoint_write_leaves_a_temp_file_the_next_start_removes(tmp_path, capsys):
    # The third checkpoint write stops half way (as if the process were killed right then).
    code = ("import time, torch\n"
            "real = torch.save\n"
            "n = [0]\n"
            "def save(obj, f, *a, **k):\n"
            "    n[0] += 1\n"
            "    if n[0] == 3:\n"
            "        f.write(b'PK half a checkpoint' * 1000); f.flush(); time.sleep(600)\n"
            "    return real(obj, f, *a, **k)\n"
            "torch.save = save\n" + TRAIN)
    proc = _start(tmp_path, code)
    run = tmp_path / "r" / "gan-0001"
    _wait_for(lambda: (run / "checkpoint.pt").exists() and any(run.glob("checkpoint.pt.*.tmp")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert any(run.glob("checkpoint.pt.*.tmp"))
    assert checkpoint.load(run)["step"] in (5, 10)   # killed while writing step 10 or 15: the one before is whole
    _check_resume(run, capsys)
    assert "removed 1 temp file" in capsys.readouterr().err


def test_resume_drops_a_half_written_log_line_and_stale_temps(tmp_path, capsys):
    from ganforge.engine.rundir import RunDir

    run = RunDir(tmp_path)
    (tmp_path / "stats.jsonl").write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n{"ste')   # killed mid-line
    for name in ("checkpoint.pt.k2j3h4.tmp", "best.pt.x9y8.tmp", "samples/samples.png.ab12.tmp"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"half")
    (tmp_path / "notes.tmp.txt").write_text("not ours")
    removed = run.truncate_stats(2)
    assert sorted(p.name for p in removed) == ["best.pt.x9y8.tmp", "checkpoint.pt.k2j3h4.tmp", "samples.png.ab12.tmp"]
    assert (tmp_path / "stats.jsonl").read_text() == '{"step": 1}\n{"step": 2}\n'
    assert (tmp_path / "notes.tmp.txt").exists()
    assert "removed 3 temp file(s)" in capsys.readouterr().err
