"""The CUDA path: skipped where torch sees no CUDA device (a condition of the machine, not a
missing family). `pytest -m gpu` on a GPU machine runs them all; benchmarks/gpu_table.py's CPU
check runs everywhere. The registry's cases and their tiny recipes are computed when the tests
are collected, everywhere: a registered model without a recipe fails collection, never goes missing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import ganforge
from tiny_models import command_argv, command_runs, registry_cases, tiny_recipe, train_tiny

ROOT = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
QUIET = dict(progress=False, sample_every=0)
CASES = registry_cases()
RECIPES = {case: tiny_recipe(*case) for case in CASES}   # raises at collection for a kind without a recipe
# cuDNN convolutions run in TF32 by default: a GPU result is close to the CPU's, not equal
CLOSE = dict(atol=2e-2, rtol=2e-2)


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
def test_resume_on_cuda_continues_exactly(tmp_path, precision, monkeypatch):
    """A 4-step run equals a 2-step run resumed to 4 (weights within 1e-6)."""
    kw = dict(model="dcgan", data="synthetic:3x32x32:64", width=8, batch_size=8, device="cuda",
              precision=precision, ckpt_every=2, **QUIET)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)   # restored after the test
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    whole = ganforge.train("gan", steps=4, out=str(tmp_path / "a"), **kw)
    half = ganforge.train("gan", steps=2, out=str(tmp_path / "b"), **kw)
    ganforge.train("gan", resume=half, steps=4, device="cuda", precision=precision, progress=False)
    a = torch.load(whole / "checkpoint.pt", weights_only=True, map_location="cpu")
    b = torch.load(half / "checkpoint.pt", weights_only=True, map_location="cpu")
    assert a["step"] == b["step"] == 4
    for name in ("G", "D"):   # the weights live under the checkpoint's "modules"
        for k, v in a["modules"][name].items():
            if v.is_floating_point():
                assert (v - b["modules"][name][k]).abs().max() <= 1e-6, (name, k)


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


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("task,model", CASES, ids=[f"{t}-{m}" for t, m in CASES])
def test_every_registered_model_trains_on_cuda(task, model, precision, tmp_path):
    """One tiny training run of every registered model on cuda, then its checkpoint round trip:
    rebuilt on cuda it computes what its CPU copy does, and it resumes on cuda."""
    from ganforge.use.export import graph

    run = train_tiny(task, tmp_path, model, device="cuda", precision=precision)
    session = json.loads((run / "sessions.jsonl").read_text().splitlines()[-1])
    assert session["device"].startswith("cuda") and session["precision"] == precision
    raw = torch.load(run / "checkpoint.pt", weights_only=True, map_location="cpu")
    for name, state in raw["modules"].items():
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), name
    on_gpu, on_cpu = ganforge.load(run, device="cuda"), ganforge.load(run, device="cpu")
    assert on_gpu.device.type == "cuda"
    g, c = graph(on_gpu), graph(on_cpu)
    net_gpu, net_cpu = g.reference or g.module, c.reference or c.module
    assert all(p.is_cuda for p in net_gpu.parameters())
    with torch.no_grad():
        y_gpu = net_gpu.eval()(*[x.cuda() for x in c.inputs])
        y_cpu = net_cpu.eval()(*c.inputs)
    y_gpu, y_cpu = (y["logits"] if isinstance(y, dict) else y for y in (y_gpu, y_cpu))
    assert torch.allclose(y_gpu.float().cpu(), y_cpu.float(), **CLOSE)
    ganforge.train(task, resume=run, steps=raw["step"] + 1, device="cuda", precision=precision, progress=False)
    assert torch.load(run / "checkpoint.pt", weights_only=True, map_location="cpu")["step"] > raw["step"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return command_runs(tmp_path_factory.mktemp("gpu-commands"))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("command", ["sample", "translate", "upscale", "eval", "forecast"])
def test_checkpoint_commands_on_cuda(command, runs, tmp_path, capsys):
    """The command on --device cuda writes what --device cpu writes (within TF32 rounding)."""
    from ganforge.cli import main

    for device in ("cpu", "cuda"):
        (tmp_path / device).mkdir()
        assert main(command_argv(command, runs, tmp_path / device) + ["--device", device]) == 0
    out = capsys.readouterr().out
    if command == "eval":   # the generator and the feature extractor both on cuda: FIDs close
        fids = [float(ln.split()[-1]) for ln in out.splitlines() if ln.strip().startswith("classifier-FID")]
        assert len(fids) == 2 and abs(fids[0] - fids[1]) <= 0.05 * max(abs(fids[0]), 1.0), out
        return
    (cpu_file,), (gpu_file,) = (list((tmp_path / d).iterdir()) for d in ("cpu", "cuda"))
    if command == "forecast":
        import pandas as pd

        a, b = pd.read_csv(cpu_file), pd.read_csv(gpu_file)
        assert list(a.columns) == list(b.columns) and np.allclose(a.iloc[:, 1:], b.iloc[:, 1:], **CLOSE)
    else:
        from PIL import Image

        a, b = (np.asarray(Image.open(f), np.int16) for f in (cpu_file, gpu_file))
        assert a.shape == b.shape and np.abs(a - b).max() <= 3   # 8-bit images: a few levels of rounding


@pytest.mark.gpu
@needs_cuda
def test_loaded_models_return_cpu_results_from_cuda(runs):
    gen = ganforge.load(runs["gan"], device="cuda")
    assert next(gen.net.parameters()).is_cuda
    x = gen.sample(4, seed=0)
    assert x.device.type == "cpu" and torch.allclose(x, ganforge.load(runs["gan"]).sample(4, seed=0), **CLOSE)
    tr = ganforge.load(runs["cyclegan"], device="cuda:0")
    assert tr.translate(torch.rand(1, 3, 22, 26) * 2 - 1).device.type == "cpu"
    up = ganforge.load(runs["sr"], device="cuda")
    assert up.upscale(torch.randint(0, 256, (1, 3, 8, 8), dtype=torch.uint8), tile=4).device.type == "cpu"
    fc = ganforge.load(runs["forecaster"], device="cuda")
    assert len(fc.forecast(fc.read(str(runs["root"] / "series.csv")))) == fc.horizon
