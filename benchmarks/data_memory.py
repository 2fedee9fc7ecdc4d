"""Memory of real training runs on the JPEG folder of data_throughput.py (issue 19): RSS and PSS
of every process, one process with a memory budget and two torchrun ranks sharing packed data.

    .venv/bin/python benchmarks/data_memory.py [--n 20000] [--dir DIR] [--image-size 128] [--steps 30]

Cases (--cases, comma-separated; each is a real `ganforge train gan --model dcgan` run):
    budget        one process, --data folder:DIR --data-memory 0.5 (streams when the decoded folder
                  exceeds 0.5 GB, as 20,000 images at 128 px or more do)
    ddp-packed    torchrun --nproc_per_node 2, --data packed:DIR (packed at --image-size)
    ddp-memory    torchrun --nproc_per_node 2, --data folder:DIR held in memory by each rank

Every 0.2 s the run's process tree is read from /proc: for each process (rank or DataLoader
worker) the peak RSS (VmHWM); the largest PSS from /proc/PID/smaps_rollup, where pages shared by
N processes (the packed shards in the page cache, libraries) count 1/N to each, with the RssAnon
(private memory) at that moment; and the RSS and PSS of the shard mappings alone (/proc/PID/smaps).
Run data_throughput.py first (it makes the
folder and the pack). Linux only. Not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from data_throughput import make_folder, machine  # noqa: E402


def _kb(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def descendants(root: int) -> list[int]:
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, frontier = [], [root]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier]
        out += kids
        frontier = kids
    return out


def mapped(pid: int, marker: str) -> tuple[int, int]:
    """(Rss, Pss) in kB of the mappings whose file path contains marker (the packed shards)."""
    rss = pss = 0
    inside = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(None, 1)[0]
        if not head.endswith(":"):   # a mapping's header line: address range, perms, ..., path
            inside = marker in line
        elif inside and head == "Rss:":
            rss += int(line.split()[1])
        elif inside and head == "Pss:":
            pss += int(line.split()[1])
    return rss, pss


def watch(cmd: list[str], env: dict, marker: str) -> tuple[int, int, dict, str]:
    """Run cmd; (its pid, exit code, {pid: memory record}, stderr tail)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: dict[int, dict] = {}
    while proc.poll() is None:
        for pid in [proc.pid] + descendants(proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
                ppid = _kb(status, "PPid")
                shard = mapped(pid, marker)
            except OSError:
                continue
            rec = seen.setdefault(pid, {"ppid": ppid, "cmd": cmdline, "hwm": 0, "pss": 0, "shard": (0, 0), "anon": 0})
            rec["hwm"] = max(rec["hwm"], _kb(status, "VmHWM"))
            rec["shard"] = max(rec["shard"], shard)
            if _kb(rollup, "Pss") > rec["pss"]:
                rec.update(pss=_kb(rollup, "Pss"), anon=_kb(status, "RssAnon"))
        time.sleep(0.2)
    return proc.pid, proc.returncode, seen, proc.stderr.read()[-3000:]


def roles(seen: dict, root: int, ddp: bool) -> list[tuple[str, dict]]:
    """(role, record) per process: main / rank N / worker of ..., the launcher left out."""
    tops = [p for p, r in seen.items() if r["ppid"] == root] if ddp else [root]
    out = []
    for i, top in enumerate(sorted(tops)):
        if top in seen:
            out.append((f"rank {i}" if ddp else "main", seen[top]))
            out += [(f"  worker of {'rank %d' % i if ddp else 'main'}", r) for p, r in seen.items() if r["ppid"] == top]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dir", default="benchmarks/.data-throughput")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--budget-size", type=int, default=0, help="image size of the budget case (0: --image-size)")
    ap.add_argument("--width", type=int, default=32, help="DCGAN width (the model's own memory is part of RSS)")
    ap.add_argument("--batch-size", type=int, default=64, help="global batch")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cases", default="budget,ddp-packed,ddp-memory")
    args = ap.parse_args()
    root = Path(args.dir) / f"jpeg-{args.n}"
    folder, packed = root / "images", root / f"packed-{args.image_size}"
    os.environ.setdefault("GANFORGE_CACHE", str(Path(args.dir) / "cache"))
    make_folder(folder, args.n)
    from ganforge.data.packed import MANIFEST, pack_folder

    if not (packed / MANIFEST).is_file():
        pack_folder(folder, packed, args.image_size, workers=2, progress=False)
    print(f"machine: {machine()}; {args.n:,} JPEGs at {args.image_size} px, DCGAN width {args.width}, "
          f"global batch {args.batch_size}, {args.steps} steps", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    gan = ["-m", "ganforge", "train", "gan", "--model", "dcgan", "--image-size", str(args.image_size),
           "--width", str(args.width), "--batch-size", str(args.batch_size), "--steps", str(args.steps),
           "--sample-every", "0", "--ckpt-every", "100000", "--no-progress", "--precision", "fp32"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cases = {"budget": ([sys.executable, *gan, "--data", f"folder:{folder}", "--data-memory", "0.5",
                         "--workers", str(args.workers), "--image-size", str(args.budget_size or args.image_size)],
                        False),
             "ddp-packed": ([*torchrun, *gan, "--data", f"packed:{packed}", "--workers", "0"], True),
             "ddp-memory": ([*torchrun, *gan, "--data", f"folder:{folder}", "--data-memory", "100", "--workers", "0"],
                            True)}
    for case in args.cases.split(","):
        cmd, ddp = cases[case]
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            pid, code, seen, err = watch(cmd + ["--out", out], env, str(packed.resolve()))
            took = time.perf_counter() - t0
            sessions = [json.loads(x) for p in Path(out).glob("*/sessions.jsonl") for x in p.read_text().splitlines()]
        if code:
            sys.exit(f"{case} failed ({code}):\n{err}")
        rows = roles(seen, pid, ddp)
        path = sessions[0].get("data_source", "?") if sessions else "?"
        print(f"\n{case}: data {path} ({sessions[0].get('data_why', '') if sessions else ''}); {took:.0f} s")
        print(f"  {'process':<20} {'peak RSS MB':>11} {'max PSS MB':>11} {'RssAnon MB':>11} {'shards RSS':>11} "
              f"{'shards PSS':>11}")
        for role, r in rows:
            print(f"  {role:<20} {r['hwm'] / 1024:>11.0f} {r['pss'] / 1024:>11.0f} {r['anon'] / 1024:>11.0f} "
                  f"{r['shard'][0] / 1024:>11.0f} {r['shard'][1] / 1024:>11.0f}")
    print(f"\nmachine after: {machine()}")


if __name__ == "__main__":
    main()
