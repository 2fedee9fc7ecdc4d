"""A GAN training step with ganforge's flatten (a channels_last map's gradient stays channels_last)
against torch's flatten (its gradient comes back NCHW), side by side in one process.

    .venv/bin/python benchmarks/flatten_layout.py [--preset infogan-relativistic-mnist] [--blocks 20] [--threads 2]

One objective trains; blocks of --block steps alternate between the two flattens, so every block
holds the same mix of plain, warp and R1 steps and machine noise hits both alike. The maths is the
same either way (only the gradient's memory layout differs). Not part of `make test`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from ganforge import config as C
from ganforge import nn as gnn
from ganforge.tasks.gan import GANObjective


class TorchFlatten:
    """Stands in for gnn._Flatten: torch's flatten, its gradient in the NCHW layout."""

    @staticmethod
    def apply(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="infogan-relativistic-mnist")
    ap.add_argument("--blocks", type=int, default=20, help="blocks per variant")
    ap.add_argument("--block", type=int, default=16, help="steps per block (a multiple of --r1-every, --warp-every and, for lapgan, 3)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = C.resolve(C.TASKS["gan"], preset=args.preset, precision="fp32", threads=args.threads, progress=False)
    obj = GANObjective(cfg)
    # every D flattens through gnn.flatten, which calls gnn._Flatten: swapping that swaps them all
    variants = {"torch flatten": TorchFlatten, "ganforge flatten": gnn._Flatten}
    times: dict[str, list[float]] = {k: [] for k in variants}
    step = 0
    for b in range(2 * args.blocks + 2):   # the first two blocks warm up
        name = list(variants)[b % 2]
        gnn._Flatten = variants[name]
        for _ in range(args.block):
            t = time.perf_counter()
            obj.train_step(step)
            if b >= 2:
                times[name].append(time.perf_counter() - t)
            step += 1
    gnn._Flatten = variants["ganforge flatten"]
    print(f"{args.preset}, fp32, {args.threads} thread(s), {args.blocks} blocks of {args.block} steps each")
    for name, t in times.items():
        print(f"{name:18s} mean {1000 * statistics.mean(t):6.1f} ms a step")
    a, b = (statistics.mean(t) for t in times.values())
    print(f"ratio (ganforge / torch): {b / a:.3f}")


if __name__ == "__main__":
    main()
