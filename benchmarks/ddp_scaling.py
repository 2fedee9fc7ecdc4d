"""Throughput of `ganforge train` in one process and under torchrun, side by side; on a GPU also
DCGAN at 32x32 in fp32 / bf16 / --compile and CycleGAN at 256x256 (the paper setting).

    .venv/bin/python benchmarks/ddp_scaling.py [--steps 60] [--rounds 3]          # CPU: 1 vs 2 processes
    .venv/bin/python benchmarks/ddp_scaling.py --gpu                               # on a CUDA machine

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
CYCLEGAN = ["train", "cyclegan", "--generator", "resnet-9", "--width", "64", "--load-size", "286", "--crop-size",
            "256", "--batch-size", "1", "--sample-every", "0", "--ckpt-every", "100000", "--no-progress"]


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
    p.add_argument("--gpu", action="store_true", help="the GPU figures (needs CUDA)")
    args = p.parse_args()
    import torch

    if args.gpu:
        if not torch.cuda.is_available():
            sys.exit("--gpu: no CUDA device here")
        print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
        gan = {f"DCGAN 32x32 batch 64 {name}": (GAN + ["--device", "cuda", *flags], 1, 4)
               for name, flags in (("fp32", ["--precision", "fp32"]), ("bf16", ["--precision", "bf16"]),
                                   ("bf16 --compile", ["--precision", "bf16", "--compile"]))}
        res = interleaved(gan, args.rounds, steps=max(args.steps, 200), warmup=50, key="images_per_s")
        for name, v in res.items():
            print(f"{name:<40} {v / 64:8.1f} steps/s  {v:9.0f} images/s")
        cyc = {"CycleGAN resnet-9 256x256 batch 1 bf16": (CYCLEGAN + ["--device", "cuda", "--precision", "bf16"], 1, 4),
               "CycleGAN resnet-9 256x256 batch 1 fp32": (CYCLEGAN + ["--device", "cuda", "--precision", "fp32"], 1, 4)}
        res = interleaved(cyc, 1, steps=60, warmup=20, key="images_per_s")
        for name, v in res.items():
            print(f"{name:<40} {1 / v:8.3f} s/iteration (reference implementation: 0.35-0.53 s on a GTX 1080 Ti)")
        return
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
