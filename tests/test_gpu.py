"""The CUDA path: skipped where torch sees no CUDA device (a condition of the machine, not a
missing family). `pytest -m gpu` on a GPU machine runs them all; benchmarks/gpu_table.py's CPU
check runs everywhere."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ganforge

ROOT = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
QUIET = dict(progress=False, sample_every=0)


@pytest.mark.slow
def test_gpu_table_runs_on_the_cpu_quick():
    """The benchmark's own code path, tiny, on the CPU: every row prints, none fails."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_table.py"), "--device", "cpu", "--quick"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("| (")]
    assert [ln[3] for ln in rows] == list("aabbcd")
    assert not any("failed" in ln for ln in rows), r.stdout
    assert "Profile of the slowest DCGAN cell" in r.stdout


def test_gpu_table_refuses_cuda_without_one():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_table.py"), "--device", "cuda"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert r.returncode == 2 and "no CUDA device" in r.stderr


@pytest.mark.gpu
@needs_cuda
def test_fp16_scaler_skips_an_inf_step():
    from ganforge.engine.runtime import Runtime

    rt = Runtime.create(device="cuda", precision="fp16")
    net = rt.prepare(torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(8, 4, device=rt.device)
    with rt.autocast():
        assert rt.update(opt, net(x).float().mean())               # a finite step is taken
    before = [p.detach().clone() for p in net.parameters()]
    with rt.autocast():
        assert not rt.update(opt, net(x).float().mean() * float("inf"))   # an inf step is skipped
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


@pytest.mark.gpu
@needs_cuda
def test_in_memory_dataset_lives_on_the_gpu(tmp_path):
    from ganforge import config as C
    from ganforge.engine.runtime import Runtime
    from ganforge.tasks import task_module

    cfg = C.resolve(C.TASKS["gan"], model="dcgan", data="synthetic:3x32x32:64", width=8, batch_size=8,
                    device="cuda", out=str(tmp_path), **QUIET)
    obj = task_module("gan").build(cfg, Runtime.from_config(cfg))
    assert obj.images.is_cuda                                      # placed once: no host-to-device copy per step
    real, _ = obj.batches.get(0)
    assert real.is_cuda
    assert set(obj.train_step(0)) >= {"d_loss", "g_loss"}


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_on_cuda_continues_exactly(tmp_path, precision):
    """A 4-step run equals a 2-step run resumed to 4 (weights within 1e-6)."""
    kw = dict(model="dcgan", data="synthetic:3x32x32:64", width=8, batch_size=8, device="cuda",
              precision=precision, ckpt_every=2, **QUIET)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    whole = ganforge.train("gan", steps=4, out=str(tmp_path / "a"), **kw)
    half = ganforge.train("gan", steps=2, out=str(tmp_path / "b"), **kw)
    ganforge.train("gan", resume=half, steps=4, device="cuda", precision=precision, progress=False)
    a = torch.load(whole / "checkpoint.pt", weights_only=True, map_location="cpu")
    b = torch.load(half / "checkpoint.pt", weights_only=True, map_location="cpu")
    assert a["step"] == b["step"] == 4
    for name in ("G", "D"):
        for k, v in a[name].items():
            if v.is_floating_point():
                assert (v - b[name][k]).abs().max() <= 1e-6, (name, k)


@pytest.mark.gpu
@needs_cuda
def test_torchrun_one_process_nccl(tmp_path):
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1",
                        "-m", "ganforge", "train", "gan", "--model", "dcgan", "--data", "synthetic:3x32x32:64",
                        "--width", "8", "--batch-size", "8", "--steps", "2", "--device", "cuda", "--no-progress",
                        "--sample-every", "0", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert r.returncode == 0, r.stderr[-3000:]
    run = next(tmp_path.glob("gan-*"))
    session = json.loads((run / "sessions.jsonl").read_text().splitlines()[-1])
    assert session["device"].startswith("cuda") and session["world"] == 1
