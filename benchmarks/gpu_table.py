"""The speed table: every task's real training step on one device, as a Markdown table.

    .venv/bin/python benchmarks/gpu_table.py                      # on a CUDA machine: the full table
    .venv/bin/python benchmarks/gpu_table.py --device cpu --quick # the same code path on the CPU, tiny

Rows, in priority order (a short session still gets the top ones; --rows picks a prefix):
  (a) DCGAN 32 px (width 64) at batch 64 / 256 / 1024 in fp32, bf16 and bf16 + torch.compile;
  (b) CycleGAN 256 px batch 1 with the paper's nets (--norm instance --upsample deconv --skip none, resnet-9,
      width 64) and with ganforge's defaults (resnet-6, width 16, resize upsampling, no norm, input skip);
  (c) SRResNet x4 on 96 px crops (the paper's 16 blocks, width 64);
  (d) the GRU forecaster step (Seattle weather, the default config).

Each cell builds the task's objective exactly as `ganforge train` does (config -> Runtime ->
task.build), so the data sit where the run puts them (on the GPU for in-memory datasets) and
the step is the real one: forward, losses, backward, optimiser, EMA. After warm-up, three timing
windows run in this one process, with the device synchronised at each window's edges; the figure
is their median. FLOPs per step come from torch.utils.flop_counter.FlopCounterMode on one step
(matmul and convolution FLOPs, the ones tensor cores do), and the achieved TFLOP/s is set beside
the card's dense peak. The slowest DCGAN cell also gets a profiler summary: time inside kernels
against the step's wall time, the rest being launch and Python overhead.

Not part of `make test` (tests/test_gpu.py runs it once with --device cpu --quick).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganforge import config as C
from ganforge import models  # noqa: F401  (GAN families register their flags before a GANConfig resolves)
from ganforge.engine.runtime import Runtime
from ganforge.tasks import task_module

# Dense (no sparsity) peaks in TFLOP/s from the vendors' data sheets: (bf16/fp16 tensor, tf32 tensor, fp32 SIMT).
PEAKS = {"H100 SXM": (989, 494, 67), "H100 NVL": (835, 418, 60), "H100 PCIe": (756, 378, 51), "H100": (989, 494, 67),
         "H200": (989, 494, 67), "A100": (312, 156, 19.5), "L40S": (362, 183, 91.6), "A10": (125, 62.5, 31.2),
         "L4": (121, 60, 30.3), "V100": (125, 0, 15.7), "RTX 4090": (165, 82.6, 82.6)}

QUIET = dict(sample_every=0, ckpt_every=10**8, progress=False, log_every=10**8)


def rows(quick: bool) -> list[tuple[str, str, dict, str]]:
    """(name, task, config fields, unit) in priority order; quick: tiny sizes for a CPU check."""
    dcgan = []
    for batch in ((16,) if quick else (64, 256, 1024)):
        for prec, comp in (("fp32", False), ("bf16", False), ("bf16", True)):
            if quick and comp:
                continue
            dcgan.append((f"(a) DCGAN 32 px w{8 if quick else 64} batch {batch} {prec}{' +compile' if comp else ''}",
                          "gan", dict(model="dcgan", data="synthetic:3x32x32:2048", width=8 if quick else 64,
                                      batch_size=batch, precision=prec, compile=comp), "img"))
    size, crop = (40, 32) if quick else (286, 256)
    cyc = [(f"(b) CycleGAN {crop} px batch 1, paper nets (resnet-9 w64, instance norm, deconv)", "cyclegan",
            dict(generator="resnet-9", width=4 if quick else 64, norm="instance", upsample="deconv", skip="none",
                 load_size=size, crop_size=crop, batch_size=1), "img"),
           (f"(b) CycleGAN {crop} px batch 1, ganforge defaults (resnet-6 w16, resize, no norm, input skip)", "cyclegan",
            dict(load_size=size, crop_size=crop, batch_size=1, width=4 if quick else 16), "img")]
    sr = [(f"(c) SRResNet x4, {24 if quick else 96} px crops, batch 16, {2 if quick else 16} blocks w{8 if quick else 64}",
           "sr", dict(model="srresnet", crop=24 if quick else 96, blocks=2 if quick else 16, width=8 if quick else 64,
                      batch_size=4 if quick else 16), "img")]
    gru = [("(d) GRU forecaster (Seattle weather, default config)", "forecaster",
            dict(epochs=1) if not quick else dict(epochs=1, hidden=8), "seq")]
    return dcgan + cyc + sr + gru


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_tflops(device: torch.device, precision: str) -> float | None:
    """The card's dense peak for this precision (None on the CPU or an unknown card)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, (low, tf32, fp32) in PEAKS.items():
        if key in name:
            if precision in ("bf16", "fp16"):
                return low
            return tf32 if torch.backends.cuda.matmul.allow_tf32 and tf32 else fp32
    return None


def measure(task: str, fields: dict, device: str, warmup: int, steps: int, windows: int = 3) -> dict:
    """Items/s (median of `windows` timing windows), FLOPs per step and peak memory of one cell."""
    cfg = C.resolve(C.TASKS[task], device=device, **{**QUIET, **fields})
    with contextlib.redirect_stdout(sys.stderr):   # the runs' own data / precision lines stay out of the table
        rt = Runtime.from_config(cfg)
        rt.seed_rank(0)
        obj = task_module(task).build(cfg, rt)
    batch = cfg.batch_size
    step = 0
    for _ in range(warmup):
        obj.train_step(step)
        step += 1
    sync(rt.device)
    with FlopCounterMode(display=False) as counter:
        obj.train_step(step)
        step += 1
    flops = counter.get_total_flops()
    if rt.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(rt.device)
    rates = []
    for _ in range(windows):
        sync(rt.device)
        t0 = time.perf_counter()
        for _ in range(steps):
            obj.train_step(step)
            step += 1
        sync(rt.device)
        rates.append(steps * batch / (time.perf_counter() - t0))
    rate = statistics.median(rates)
    mem = torch.cuda.max_memory_allocated(rt.device) / 2**30 if rt.device.type == "cuda" else None
    return {"rate": rate, "flops": flops, "mem_gib": mem, "precision": rt.precision, "obj": obj, "batch": batch,
            "device": rt.device, "step": step}


def profile_summary(cell: dict, steps: int = 10) -> str:
    """Kernel time against wall time for `steps` more steps of an already warm objective."""
    obj, device = cell["obj"], cell["device"]
    acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if device.type == "cuda" else [])
    step = cell["step"]
    sync(device)
    t0 = time.perf_counter()
    with torch.profiler.profile(activities=acts) as prof:
        for i in range(steps):
            obj.train_step(step + i)
        sync(device)
    wall = (time.perf_counter() - t0) / steps
    events = prof.key_averages()
    if device.type == "cuda":
        kernel = sum(getattr(e, "self_device_time_total", getattr(e, "self_cuda_time_total", 0)) for e in events) / 1e6 / steps
        launches = sum(e.count for e in events if e.key.startswith(("cudaLaunchKernel", "cuLaunchKernel"))) / steps
        top = sorted(events, key=lambda e: getattr(e, "self_device_time_total", 0), reverse=True)[:5]
        tops = ", ".join(f"{e.key[:40]} {getattr(e, 'self_device_time_total', 0) / 1e3 / steps:.2f} ms" for e in top)
        return (f"per step: wall {wall * 1e3:.2f} ms, GPU kernels {kernel * 1e3:.2f} ms ({100 * kernel / wall:.0f}% busy), "
                f"{launches:.0f} kernel launches; the rest is launch and Python overhead. Top kernels: {tops}")
    cpu = sum(e.self_cpu_time_total for e in events) / 1e6 / steps
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:5]
    tops = ", ".join(f"{e.key[:40]} {e.self_cpu_time_total / 1e3 / steps:.2f} ms" for e in top)
    return f"per step: wall {wall * 1e3:.2f} ms, profiled CPU op time {cpu * 1e3:.2f} ms. Top ops: {tops}"


def header(device: torch.device) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    cuda = f", CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}" if device.type == "cuda" else ""
    return f"{name}; torch {torch.__version__}{cuda}; Python {platform.python_version()}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few steps: checks the code path, measures nothing")
    p.add_argument("--rows", default="abcd", help="which row groups to run, in order (default abcd)")
    p.add_argument("--steps", type=int, default=None, help="steps per timing window (default 30; --quick 2)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default 15; --quick 1)")
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"--device {args.device}: no CUDA device here (torch {torch.__version__}); use --device cpu --quick",
              file=sys.stderr)
        return 2
    steps = args.steps or (2 if args.quick else 30)
    warmup = args.warmup or (1 if args.quick else 15)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    print(f"{header(device)}\n")
    print("| cell | precision | items/s | ms/step | GFLOP/step | TFLOP/s | peak TFLOP/s | % of peak | peak memory GiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    slowest = None
    for name, task, fields, unit in rows(args.quick):
        if name[1] not in args.rows:
            continue
        try:
            cell = measure(task, fields, args.device, warmup, steps if task != "forecaster" else steps * 5)
        except Exception as e:   # one failed cell (out of memory, a compile error) must not lose the table
            print(f"| {name} | | failed: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]} | | | | | | |", flush=True)
            continue
        ms = 1e3 * cell["batch"] / cell["rate"]
        tflops = cell["flops"] * cell["rate"] / cell["batch"] / 1e12
        peak = peak_tflops(device, cell["precision"])
        mem = f"{cell['mem_gib']:.2f}" if cell["mem_gib"] is not None else "n/a"
        print(f"| {name} | {cell['precision']} | {cell['rate']:,.0f} {unit}/s | {ms:.2f} | {cell['flops'] / 1e9:.2f} | {tflops:.2f} | "
              f"{peak if peak else 'n/a'} | {f'{100 * tflops / peak:.1f}' if peak else 'n/a'} | {mem} |", flush=True)
        if task == "gan" and (slowest is None or cell["rate"] < slowest[1]["rate"]):
            if slowest is not None:
                del slowest[1]["obj"]
            slowest = (name, cell)
        else:
            del cell["obj"]
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if slowest is not None:
        print(f"\nProfile of the slowest DCGAN cell, {slowest[0]}: {profile_summary(slowest[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
