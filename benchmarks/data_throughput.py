"""Images/s each image-data path delivers to the training loop, next to what a DCGAN-64 step
consumes, and the peak memory of each (issue 19).

    .venv/bin/python benchmarks/data_throughput.py [--n 20000] [--dir DIR] [--image-size 64] [--batches 40]

Makes N generated 256x256 JPEGs in 10 class folders (kept in --dir, so a second run skips this),
lists them into the folder index, packs them at --image-size, then measures each path in a
process of its own (so that each peak RSS is its own):

    in-memory     every image decoded into one uint8 tensor first (the load time is reported
                  apart), then batches indexed from it
    streaming-1   --stream: 1 DataLoader worker decodes and resizes each batch
    streaming-2   the same with 2 workers
    packed        --data packed:DIR, the memory-mapped shards, read in the main process
    dcgan-step    a DCGAN-64 training step (width 64, batch --batch-size) on in-memory data: the
                  rate at which the loop consumes images (torch's default threads)

A batch counts as delivered when it is a float tensor in [-1, 1] in the loop's process. Peak RSS
is the process's own high-water mark (ru_maxrss); "worker" is the largest worker's. Not part of
`make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

CLASSES = 10
VARIANTS = ("in-memory", "streaming-1", "streaming-2", "packed", "dcgan-step")


def make_image(args) -> None:
    """One photo-like 256x256 JPEG: smooth colour fields (a bicubic-upscaled 6x6 grid), a few
    discs, fine noise; deterministic in its index."""
    from PIL import Image, ImageDraw

    path, i, side = args
    if path.exists():
        return
    rng = np.random.default_rng(i)
    base = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).resize((side, side), Image.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(3):
        x, y, r = rng.integers(0, side, 2).tolist() + [int(rng.integers(side // 16, side // 4))]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.integers(0, 256, 3).tolist()))
    pixels = np.asarray(base, np.int16) + rng.normal(0, 6, (side, side, 3)).astype(np.int16)
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path, quality=90)


def make_folder(root: Path, n: int, side: int = 256, procs: int = 2) -> Path:
    jobs = []
    for i in range(n):
        path = root / f"class{i % CLASSES}" / f"{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        jobs.append((path, i, side))
    with Pool(procs) as pool:
        pool.map(make_image, jobs, chunksize=256)
    return root


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024   # kilobytes on Linux


def measure(variant: str, folder: Path, packed: Path, image_size: int, batch: int, batches: int) -> dict:
    """Run in a fresh process: images/s of `variant` after a warm-up, load time, peak RSS."""
    import torch

    from ganforge.data import BatchSampler, Batches, load_images, to_float

    if variant == "dcgan-step":
        return dcgan_rate(image_size, batch, batches)
    torch.set_num_threads(1)   # the loop's side of loading is indexing and one float conversion: no
    #                            use for a second thread, which on a busy machine only waits for a core
    t0 = time.perf_counter()
    workers = int(variant.rsplit("-", 1)[1]) if variant.startswith("streaming") else 0
    spec = f"packed:{packed}" if variant == "packed" else f"folder:{folder}"
    data = load_images(spec, channels=3, size=image_size, memory=1e6, stream=variant.startswith("streaming"),
                       progress=False)
    load_s = time.perf_counter() - t0
    loader = Batches(data.images, data.labels, BatchSampler(len(data), batch, seed=0), workers)
    warmup = 3
    for step in range(warmup):
        to_float(loader.get(step)[0])
    t0 = time.perf_counter()
    for step in range(warmup, warmup + batches):
        x = to_float(loader.get(step)[0])
        assert x.shape == (batch, 3, image_size, image_size) and x.dtype == torch.float32
    rate = batch * batches / (time.perf_counter() - t0)
    loader.close()
    return {"variant": variant, "source": data.source, "images_per_s": rate, "load_s": load_s,
            "peak_rss_mb": peak_rss_mb(), "worker_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN)}


def dcgan_rate(image_size: int, batch: int, steps: int) -> dict:
    """Images/s a DCGAN train step consumes (in-memory synthetic data, so the data costs nothing)."""
    from ganforge.config import GANConfig, resolve
    from ganforge.tasks.gan import GANObjective

    cfg = resolve(GANConfig, model="dcgan", data=f"synthetic:3x{image_size}x{image_size}:{4 * batch}",
                  batch_size=batch, progress=False, workers=0)
    obj = GANObjective(cfg)
    steps = max(3, steps // 10)   # a CPU step is slow; its rate settles within a few
    obj.train_step(0)
    t0 = time.perf_counter()
    for s in range(1, 1 + steps):
        obj.train_step(s)
    rate = batch * steps / (time.perf_counter() - t0)
    return {"variant": "dcgan-step", "source": f"{obj.rt.device} {obj.rt.precision}", "images_per_s": rate,
            "load_s": 0.0, "peak_rss_mb": peak_rss_mb(), "worker_peak_rss_mb": 0.0}


def machine() -> str:
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        cpu = "unknown CPU"
    return f"{cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="generated JPEGs (default 20000)")
    ap.add_argument("--dir", default="benchmarks/.data-throughput", help="where the JPEGs and the pack are kept")
    ap.add_argument("--image-size", type=int, default=64, help="training side the images are resized to")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--batches", type=int, default=40, help="batches timed per variant (after 3 of warm-up)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--measure", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = Path(args.dir) / f"jpeg-{args.n}"
    folder, packed = root / "images", root / f"packed-{args.image_size}"
    if args.measure:
        print(json.dumps(measure(args.measure, folder, packed, args.image_size, args.batch_size, args.batches)))
        return
    os.environ.setdefault("GANFORGE_CACHE", str(Path(args.dir) / "cache"))
    print(f"machine: {machine()}", flush=True)
    t0 = time.perf_counter()
    make_folder(folder, args.n, procs=min(2, os.cpu_count() or 1))
    print(f"{args.n:,} JPEGs of 256x256 in {folder}: {time.perf_counter() - t0:.1f} s", flush=True)
    from ganforge.data.index import index_folder, index_path
    from ganforge.data.packed import MANIFEST, pack_folder

    index_path(folder).unlink(missing_ok=True)
    for when in ("first", "cached"):
        t0 = time.perf_counter()
        index_folder(folder, progress=False)
        print(f"index ({when}): {time.perf_counter() - t0:.2f} s", flush=True)
    if not (packed / MANIFEST).is_file():
        t0 = time.perf_counter()
        pack_folder(folder, packed, args.image_size, workers=min(2, os.cpu_count() or 1), progress=False)
        print(f"pack at {args.image_size} px with 2 workers: {time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for variant in VARIANTS:
        r = subprocess.run([sys.executable, __file__, "--measure", variant, "--n", str(args.n), "--dir", args.dir,
                            "--image-size", str(args.image_size), "--batch-size", str(args.batch_size),
                            "--batches", str(args.batches)], capture_output=True, text=True, env=os.environ)
        if r.returncode:
            sys.exit(f"{variant} failed:\n{r.stderr[-4000:]}")
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"  measured {variant}", file=sys.stderr, flush=True)
    need = rows[-1]["images_per_s"]
    print(f"\n{'path':<13} {'images/s':>9} {'vs DCGAN':>9} {'load s':>7} {'peak RSS MB':>12} {'worker MB':>10}")
    for r in rows:
        print(f"{r['variant']:<13} {r['images_per_s']:>9.0f} {r['images_per_s'] / need:>8.1f}x {r['load_s']:>7.1f} "
              f"{r['peak_rss_mb']:>12.0f} {r['worker_peak_rss_mb']:>10.0f}")
    print(f"(DCGAN-64 step: {rows[-1]['source']}, batch {args.batch_size}; machine after: {machine()})")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "n": args.n, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
