"""Multi-process training on the CPU (gloo) through torchrun, and the runtime's single-process paths.

Each torchrun launch starts three Python processes (~4 s here), so these tests use the smallest
data and nets that still exercise every task's step, checkpoint and resume."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import torch

import ganforge
from ganforge.cli import main
from ganforge.nn import checkpoint
from ganforge.engine.runtime import Runtime

TASK_FLAGS = {
    "gan": ["--model", "dcgan", "--data", "synthetic:1x16x16:64", "--width", "4", "--latent-dim", "8",
            "--batch-size", "8", "--d-steps", "2", "--g-steps", "2", "--sample-every", "0"],
    "classifier": ["--data", "mnist5k", "--width", "4", "--batch-size", "8", "--eval-every", "2"],
    "cyclegan": ["--crop-size", "32", "--load-size", "36", "--width", "4", "--batch-size", "2", "--sample-every", "0"],
    "forecaster": ["--window", "8", "--hidden", "4", "--batch-size", "8", "--epochs", "1"],
}


def write_series(path, n=160):
    t = torch.arange(n, dtype=torch.float64)
    rows = ["step,y"] + [f"{i},{v:.6f}" for i, v in enumerate((torch.sin(t * 0.7) + 0.01 * t).tolist())]
    path.write_text("\n".join(rows) + "\n")
    return path


def torchrun(args, nproc=2, extra=(), script=None, timeout=300):
    """Run `ganforge ARGS` (or a script) under torchrun with nproc CPU processes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    target = [str(script)] if script else ["-m", "ganforge"]
    cmd = [sys.executable, "-m", "torch.distributed.run", *extra]
    if not extra:
        cmd += ["--standalone", "--nproc-per-node", str(nproc)]
    return subprocess.run(cmd + target + list(args), capture_output=True, text=True, timeout=timeout, env=env)


def stats(run_dir):
    return [json.loads(ln) for ln in (run_dir / "stats.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASK_FLAGS))
def test_every_task_trains_under_two_processes(task, tmp_path):
    flags = list(TASK_FLAGS[task])
    if task == "forecaster":
        flags += ["--csv", str(write_series(tmp_path / "s.csv")), "--column", "y"]
    steps = [] if task == "forecaster" else ["--steps", "3"]
    r = torchrun(["train", task, *flags, *steps, "--out", "runs", "--no-progress", "--device", "cpu"])
    assert r.returncode == 0, r.stderr[-3000:]
    runs = list((tmp_path / "runs").iterdir())
    assert [p.name for p in runs] == [f"{task}-0001"]             # one run directory, written by rank 0
    lines = [s for s in stats(runs[0]) if "d_loss" in s or "loss" in s or "cycle" in s]
    ckpt = checkpoint.load(runs[0], task)
    assert [s["step"] for s in lines] == list(range(1, ckpt["step"] + 1))   # one stats line per step
    assert ckpt["runtime"]["world"] == 2 and ckpt["config"]["batch_size"] == int(flags[flags.index("--batch-size") + 1])
    ganforge.load(runs[0])                                       # a single process rebuilds the model
    assert r.stdout.count("run directory:") == 1                  # rank 0 alone reports


@pytest.mark.slow
@pytest.mark.parametrize("model", [["acgan"], ["infogan", "--info-warp", "1", "--info-real", "1"]])
def test_conditional_gan_under_two_processes(model, tmp_path):
    r = torchrun(["train", "gan", "--model", *model, "--data", "mnist5k", "--width", "4", "--latent-dim", "8",
                  "--batch-size", "8", "--steps", "2", "--sample-every", "0", "--no-progress", "--out", "runs"])
    assert r.returncode == 0, r.stderr[-3000:]
    gen = ganforge.load(tmp_path / "runs" / "gan-0001")
    if model[0] == "acgan":
        assert gen.num_classes == 10 and gen.sample(3, labels=4).shape == (3, 1, 28, 28)
    else:   # D ran four times (real, fake, warped real, warped fake) before one reduced backward
        assert gen.axis[0] == 10 and gen.traverse("c1", steps=3).shape == (30, 1, 28, 28)


@pytest.mark.slow
def test_resume_from_one_to_two_processes_and_back(tmp_path):
    csv = str(write_series(tmp_path / "s.csv"))
    base = ["train", "forecaster", "--csv", csv, "--column", "y", "--window", "8", "--hidden", "4",
            "--batch-size", "8", "--no-progress", "--device", "cpu", "--patience", "0"]
    assert main([*base, "--steps", "2", "--out", "runs"]) == 0
    run = tmp_path / "runs" / "forecaster-0001"
    r = torchrun(["train", "forecaster", "--resume", str(run), "--steps", "4", "--no-progress"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert main(["train", "forecaster", "--resume", str(run), "--steps", "6"]) == 0
    assert [s["step"] for s in stats(run) if "loss" in s] == [1, 2, 3, 4, 5, 6]
    sessions = [json.loads(ln) for ln in (run / "sessions.jsonl").read_text().splitlines()]
    assert [(s["started_at_step"], s["world"]) for s in sessions] == [(0, 1), (2, 2), (4, 1)]
    assert sessions[1]["threads"] == max(1, len(os.sched_getaffinity(0)) // 2)   # --threads 0: CPUs / processes


@pytest.mark.slow
def test_two_processes_with_half_batches_equal_one_process(tmp_path):
    """DDP averages gradients, the sampler gives rank r every r-th half of the global batch: a net
    without batch statistics (the GRU forecaster) must end with the same weights."""
    csv = str(write_series(tmp_path / "s.csv"))
    args = ["train", "forecaster", "--csv", csv, "--column", "y", "--window", "8", "--hidden", "6", "--batch-size",
            "8", "--no-progress", "--device", "cpu", "--precision", "fp32", "--patience", "0"]
    r = torchrun([*args, "--steps", "5", "--out", "two"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert main([*args, "--steps", "5", "--out", "one"]) == 0
    one = checkpoint.load(tmp_path / "one" / "forecaster-0001")["modules"]["net"]
    two = checkpoint.load(tmp_path / "two" / "forecaster-0001")["modules"]["net"]
    for k in one:
        torch.testing.assert_close(two[k], one[k], rtol=1e-4, atol=1e-5)
    # the weights moved between steps, so agreeing at step 5 is not agreeing on an untouched init
    assert main([*args, "--steps", "1", "--out", "early"]) == 0
    early = checkpoint.load(tmp_path / "early" / "forecaster-0001")["modules"]["net"]
    assert max((early[k] - one[k]).abs().max().item() for k in one) > 1e-3


NAN_SCRIPT = """
import sys
from ganforge.tasks import gan
step = gan.GANObjective.train_step
def nan_on_rank_1(self, i):
    s = step(self, i)
    if self.rank == 1 and i == 2:
        s["d_loss"] = float("nan")
    return s
gan.GANObjective.train_step = nan_on_rank_1
from ganforge.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_nan_on_one_rank_stops_every_rank(tmp_path):
    script = tmp_path / "nan.py"
    script.write_text(NAN_SCRIPT)
    t0 = time.monotonic()
    r = torchrun(["train", "gan", "--model", "mlp", "--data", "synthetic:1x8x8:32", "--width", "4", "--latent-dim",
                  "4", "--batch-size", "8", "--steps", "1000", "--ckpt-every", "1", "--sample-every", "0",
                  "--no-progress", "--out", "runs"], script=script)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0 and elapsed < 60
    assert r.stderr.count("error: d_loss became nan at step 3") == 1          # printed once, by rank 0
    assert "exitcode  : 2" in r.stderr                                        # workers exit 2, not with a crash
    assert checkpoint.load(tmp_path / "runs" / "gan-0001")["step"] == 2       # the last good checkpoint


DDP_SCRIPT = """
import gc, sys
import torch
from ganforge.cli import main
from ganforge.engine import runtime

close = runtime.Runtime.close

def counting_close(self, clean=True):
    live = sum(isinstance(o, torch.nn.parallel.DistributedDataParallel) for o in gc.get_objects())
    print(f"rank {self.rank}: {live} DDP wrappers alive at close", file=sys.stderr)
    return close(self, clean)

runtime.Runtime.close = counting_close
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_process_group_is_left_after_the_ddp_wrappers_are_gone(tmp_path):
    """The wrappers hold gloo work; torn down during interpreter exit instead, it can abort a rank."""
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    r = torchrun(["train", "gan", "--model", "dcgan", "--data", "synthetic:1x16x16:64",
                  "--width", "4", "--latent-dim", "8", "--batch-size", "8", "--steps", "2", "--sample-every", "0",
                  "--no-progress", "--device", "cpu", "--out", "runs"], script=script)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count("0 DDP wrappers alive at close") == 2, r.stderr[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_machines_simulated_on_one_host(tmp_path):
    csv = str(write_series(tmp_path / "s.csv"))
    args = ["train", "forecaster", "--csv", csv, "--column", "y", "--window", "8", "--hidden", "4",
            "--batch-size", "8", "--steps", "3", "--no-progress", "--device", "cpu", "--out", "runs"]
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(n),
                               "--nproc-per-node", "1", "--rdzv-backend", "c10d",
                               "--rdzv-endpoint", f"127.0.0.1:{port}", "-m", "ganforge", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for n in (0, 1)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][1][-2000:] + outs[1][1][-2000:]
    runs = list((tmp_path / "runs").iterdir())
    assert [p.name for p in runs] == ["forecaster-0001"]
    assert checkpoint.load(runs[0])["runtime"]["world"] == 2


# --------------------------------------------------------------------------- single process


def test_cuda_without_a_gpu_is_one_line(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["train", "gan", "--device", "cuda", "--steps", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --device cuda")


def test_bad_device_name_is_refused(capsys):
    assert main(["train", "gan", "--device", "tpu", "--steps", "1"]) == 2
    assert "--device must be auto, cpu, cuda, cuda:N or mps" in capsys.readouterr().err


def test_fp16_scaler_runs_on_the_cpu_and_skips_an_inf_step():
    rt = Runtime(torch.device("cpu"), "fp16")
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(4, 3)

    def step(scale_loss=1.0):
        before = [p.detach().clone() for p in net.parameters()]
        with rt.autocast():
            loss = (net(x).float() * scale_loss).pow(2).mean()
        stepped = rt.update(opt, loss)
        changed = any(not torch.equal(b, p) for b, p in zip(before, net.parameters()))
        assert stepped == changed            # a reported step moved the weights, a skipped one did not
        return stepped

    # the scale starts at 2^16 and halves on every overflow until the fp16 gradients fit
    assert any(step() for _ in range(30))
    scale = rt.scaler(opt).get_scale()
    assert step(float("inf")) is False                                   # inf gradients: skipped
    assert rt.scaler(opt).get_scale() == scale / 2                        # and the scale backed off
    assert rt.scaler_states({"net": opt})["net"]["scale"] == scale / 2


def test_fp16_training_run_on_the_cpu(tmp_path):
    run = ganforge.train("gan", model="mlp", data="synthetic:1x8x8:32", width=4, latent_dim=4, batch_size=8, steps=3,
                         precision="fp16", device="cpu", progress=False, sample_every=0, out="runs")
    ckpt = checkpoint.load(run)
    assert set(ckpt["scalers"]) == {"G", "D"} and ckpt["runtime"]["precision"] == "fp16"
    resumed = ganforge.train("gan", resume=run, steps=5, precision="fp32")   # precision may change on resume
    assert checkpoint.load(resumed)["runtime"]["precision"] == "fp32"


def test_global_batch_must_divide_over_processes():
    from ganforge import config as C
    from ganforge.tasks.gan import GANObjective

    rt = Runtime(torch.device("cpu"), "fp32", rank=0, world=3)   # no process group needed to refuse
    cfg = C.resolve(C.TASKS["gan"], model="mlp", data="synthetic:1x8x8:32", batch_size=8)
    with pytest.raises(ganforge.UserError, match="--batch-size 8 does not divide evenly over 3 processes"):
        GANObjective(cfg, rt)


def test_resume_may_change_device_and_precision_but_not_the_model(tmp_path):
    run = ganforge.train("gan", model="mlp", data="synthetic:1x8x8:32", width=4, latent_dim=4, batch_size=8, steps=2,
                         progress=False, sample_every=0, out="runs")
    with pytest.raises(ganforge.UserError, match="--width cannot change when resuming"):
        ganforge.train("gan", resume=run, steps=3, width=8)
    assert main(["train", "gan", "--resume", str(run), "--steps", "3", "--device", "cpu",
                 "--set", "precision=fp32"]) == 0
