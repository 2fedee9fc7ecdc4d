"""Throughput of `ganforge train` in one process and under torchrun, side by side, on the CPU.
The GPU figures (DCGAN, CycleGAN, SRResNet, GRU) are benchmarks/gpu_table.py.

    .venv/bin/python benchmarks/ddp_scaling.py [--steps 60] [--rounds 3]          # CPU: 1 vs 2 processes

Each variant is a real `ganforge train gan` run (DCGAN, synthetic 3x32x32 data, global batch 64);
its throughput is the median of the per-step images/s that the run logs in stats.jsonl, after a
warm-up. Variants run in interleaved rounds so machine noise hits all alike; figures are medians
over rounds. Not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GAN = ["train", "gan", "--model", "dcgan", "--data", "synthetic:3x32x32:4096", "--batch-size", "64",
       "--sample-every", "0", "--ckpt-every", "100000", "--no-progress"]


def run(args: list[str], nproc: int, threads: int, steps: int, warmup: int, key: str) -> float:
    """Median of `key` over steps after `warmup` of one training run."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        cmd = [sys.executable, "-m", "ganforge"] if nproc == 1 else [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
            "-m", "ganforge"]
        r = subprocess.run(cmd + args + ["--steps", str(steps), "--out", out], env=env, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"failed: {' '.join(cmd + args)}\n{r.stderr[-6000:]}")
        stats = [json.loads(ln) for p in Path(out).glob("*/stats.jsonl") for ln in p.read_text().splitlines()]
        values = [s[key] for s in stats if key in s and s["step"] > warmup]
        return statistics.median(values)


def interleaved(variants: dict, rounds: int, **kw) -> dict[str, float]:
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (args, nproc, threads) in variants.items():
            results[name].append(run(args, nproc, threads, **kw))
    return {name: statistics.median(v) for name, v in results.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    import torch

    cpu = {"1 process, 1 thread": (GAN + ["--device", "cpu", "--width", "32"], 1, 1),
           "1 process, 2 threads": (GAN + ["--device", "cpu", "--width", "32"], 1, 2),
           "2 processes (torchrun, gloo), 1 thread each": (GAN + ["--device", "cpu", "--width", "32"], 2, 1)}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, DCGAN width 32 on 3x32x32, global batch 64, "
          f"{args.rounds} rounds x {args.steps} steps, precision auto")
    res = interleaved(cpu, args.rounds, steps=args.steps, warmup=10, key="images_per_s")
    base = res["1 process, 1 thread"]
    for name, v in res.items():
        print(f"{name:<46} {v:8.0f} images/s  {v / base:5.2f}x")


if __name__ == "__main__":
    main()
