"""Training steps of ganforge's GRU forecaster against the GRU article's Keras model, same run.

    .venv/bin/python benchmarks/gru_step.py [--steps 40] [--rounds 3] [--keras-python .venv-bench/bin/python]

Both train the article's setup: an 8,000-point daily series, windows of 100, batch 32, GRU 50 ->
GRU 50 -> Dense 1, Adam(1e-3), MSE.

"ganforge" runs ForecasterObjective.train_step, the exact code behind `ganforge train
forecaster`, with --cell torch (torch.nn.GRU) and --cell ganforge (ganforge.nn.GRU, both
reset_after variants, with its C kernel and with PyTorch ops only), on 1 and 2 threads. "keras" is the article's Sequential model trained by
model.fit (compiled train step), in a subprocess of a separate venv holding tensorflow-cpu,
which is a benchmark-only dependency, never one of ganforge:

    python3 -m venv .venv-bench && .venv-bench/bin/pip install tensorflow-cpu

Without that venv the Keras half is skipped with a message. Variants run in interleaved rounds
and each figure is the median over rounds; keep the machine otherwise idle. Not part of make test.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_POINTS, WINDOW, BATCH, UNITS = 8000, 100, 32, 50
ROOT = Path(__file__).resolve().parent.parent


def article_series(n: int = N_POINTS) -> np.ndarray:
    """Daily temperatures like the article's data: a yearly cycle plus noise (seeded)."""
    t = np.arange(n)
    return 25 + 8 * np.sin(2 * np.pi * t / 365.25) + np.random.default_rng(0).normal(0, 3, n)


# --------------------------------------------------------------------------- keras (subprocess)

def keras_worker(steps: int, rounds: int) -> None:
    """Runs inside the tensorflow venv; prints one JSON line of per-round ms/step."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tensorflow import keras

    values = article_series()
    scaled = (values - values.min()) / (values.max() - values.min())
    idx = np.arange(len(scaled) - WINDOW)[:, None] + np.arange(WINDOW)[None, :]
    X, y = scaled[idx][..., None].astype("float32"), scaled[WINDOW:].astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((WINDOW, 1)), keras.layers.GRU(UNITS, return_sequences=True),
                              keras.layers.GRU(UNITS), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mean_squared_error")
    model.fit(X[:5 * BATCH], y[:5 * BATCH], batch_size=BATCH, epochs=1, verbose=0)   # trace + compile
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        model.fit(X[:steps * BATCH], y[:steps * BATCH], batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
        out.append(1000 * (time.perf_counter() - t0) / steps)
    print(json.dumps({"ms": out}))


def run_keras(python: str, steps: int, rounds: int) -> list[float] | None:
    if not Path(python).exists():
        print(f"keras: skipped, {python} not found (python3 -m venv .venv-bench && "
              ".venv-bench/bin/pip install tensorflow-cpu)")
        return None
    proc = subprocess.run([python, __file__, "--keras-worker", "--steps", str(steps), "--rounds", str(rounds)],
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        print(f"keras: failed ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode})")
        return None
    return json.loads(lines[-1])["ms"]


# --------------------------------------------------------------------------- ganforge

def ganforge_objective(cell: str, reset_after: bool):
    import pandas as pd

    from ganforge import config as C
    from ganforge.data.series import read_series
    from ganforge.tasks.forecaster import ForecasterObjective

    frame = pd.DataFrame({"date": pd.date_range("2010-01-01", periods=N_POINTS, freq="D"),
                          "temperature": article_series()})
    cfg = C.resolve(C.ForecasterConfig, column="temperature", window=WINDOW, batch_size=BATCH, cell=cell,
                    reset_after=reset_after, threads=0, progress=False)
    return ForecasterObjective(cfg, series=read_series(frame, "temperature"))


def time_steps(obj, steps: int, threads: int, start: int) -> float:
    import torch

    torch.set_num_threads(threads)
    for i in range(3):                       # warm-up: allocator, first-call dispatch
        obj.train_step(start + i)
    t0 = time.perf_counter()
    for i in range(steps):
        obj.train_step(start + 3 + i)
    return 1000 * (time.perf_counter() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="timed training steps per variant and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--keras-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    p.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.keras_worker:
        return keras_worker(args.steps, args.rounds)

    import torch

    variants = {  # name: (cell, reset_after, threads, C kernel)
        "ganforge --cell torch, 1 thread": ("torch", True, 1, True),
        "ganforge --cell torch, 2 threads": ("torch", True, 2, True),
        "ganforge --cell ganforge, PyTorch ops only (GANFORGE_GRU_KERNEL=0), 1 thread": ("ganforge", True, 1, False),
        "ganforge --cell ganforge, 1 thread": ("ganforge", True, 1, True),
        "ganforge --cell ganforge, 2 threads": ("ganforge", True, 2, True),
        "ganforge --cell ganforge --no-reset-after (article maths), 2 threads": ("ganforge", False, 2, True),
    }
    objs = {name: ganforge_objective(cell, ra) for name, (cell, ra, _, _) in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    print(f"{N_POINTS} points, window {WINDOW}, batch {BATCH}, GRU {UNITS} -> {UNITS} -> 1; "
          f"{args.steps} steps x {args.rounds} rounds; torch {torch.__version__}, {os.cpu_count()} CPUs")
    for r in range(args.rounds):
        for name, (_, _, threads, c_kernel) in variants.items():
            os.environ["GANFORGE_GRU_KERNEL"] = "1" if c_kernel else "0"
            times[name].append(time_steps(objs[name], args.steps, threads, r * (args.steps + 3)))
    keras = run_keras(args.keras_python, args.steps, args.rounds)
    if keras:
        times["keras (article, model.fit, TF default threads)"] = keras
    ref = statistics.median(keras) if keras else None
    w = max(map(len, times)) + 2
    print(f"{'variant':<{w}}{'ms/step':>9}{'steps/s':>9}" + (f"{'x keras':>9}" if ref else ""))
    for name, ms in times.items():
        m = statistics.median(ms)
        print(f"{name:<{w}}{m:>9.1f}{1000 / m:>9.1f}" + (f"{ref / m:>9.2f}" if ref else ""))


if __name__ == "__main__":
    sys.exit(main())
