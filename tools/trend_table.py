"""The measurement behind the forecaster's --normalize / --difference default: the GRU against
the naive forecast on three synthetic trending series, for every scaling and differencing.

    .venv/bin/python tools/trend_table.py [--epochs 30] [--seeds 0,1,2] [--out /tmp/trend-table]

Series (written as CSVs under --out, fixed seed):
  trend: 1,000 weekly points, linear trend --slope (0.1)/week + yearly sine (amplitude 5, period 52)
         + Gaussian noise (sd 1); --window 52
  walk:  1,000 daily points, random walk with drift --drift (1.0)/day and steps of sd 1; --window 30
  growth: 1,000 weekly points, exponential growth --growth (0.002: 0.2 %/week, x7.4 in all)
         times a yearly +-10 % cycle and 2 % noise: the differences grow with the level; --window 52
The test part (last 15 %) lies above every training value in all three. Prints one markdown table
of test MAE / RMSE / MASE (GRU and naive) per setting; the runs stay under --out/runs.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

import ganforge

SETTINGS = [("global", 0), ("window", 0), ("revin", 0), ("global", 1), ("window", 1), ("revin", 1)]


def make_series(out: Path, slope: float, drift: float, rate: float) -> dict[str, tuple[Path, dict]]:
    rng = np.random.default_rng(0)
    n = 1000
    t = np.arange(n)
    trend = slope * t + 5 * np.sin(2 * np.pi * t / 52) + rng.standard_normal(n)
    walk = np.cumsum(drift + rng.standard_normal(n))
    growth = 10 * np.exp(rate * t) * (1 + 0.1 * np.sin(2 * np.pi * t / 52)) * (1 + 0.02 * rng.standard_normal(n))
    files = {}
    for name, y, freq, window in (("trend", trend, "W", 52), ("walk", walk, "D", 30), ("growth", growth, "W", 52)):
        path = out / f"{name}.csv"
        pd.DataFrame({"date": pd.date_range("2000-01-02", periods=n, freq=freq), "y": y}).to_csv(path, index=False)
        files[name] = (path, {"window": window})
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seeds", default="0", help="comma-separated; scores are averaged over them")
    ap.add_argument("--out", default="/tmp/trend-table")
    ap.add_argument("--slope", type=float, default=0.1, help="trend per week of the trend series")
    ap.add_argument("--drift", type=float, default=1.0, help="drift per step of the random walk (steps have sd 1)")
    ap.add_argument("--growth", type=float, default=0.002, help="growth rate per week of the growth series")
    ap.add_argument("--only", default="", help="comma-separated series names (trend, walk, growth)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| series | --normalize | --difference | GRU MAE | GRU RMSE | GRU MASE | naive MAE | naive RMSE | naive MASE | beats naive |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (path, kw) in make_series(out, args.slope, args.drift, args.growth).items():
        if args.only and name not in args.only.split(","):
            continue
        for norm, diff in SETTINGS:
            rows = []
            for seed in seeds:
                with contextlib.redirect_stdout(io.StringIO()):   # the run's own report is in its directory
                    run = ganforge.train("forecaster", csv=str(path), column="y", normalize=norm,
                                         difference=diff, epochs=args.epochs, seed=seed, progress=False,
                                         out=str(out / "runs"), **kw)
                rows.append(json.loads((run / "test_metrics.json").read_text()))
            g = {k: np.mean([r["GRU"][k] for r in rows]) for k in ("mae", "rmse", "mase")}
            b = rows[0]["naive"]
            beats = "yes" if g["mae"] < b["mae"] and g["rmse"] < b["rmse"] else "no"
            print(f"| {name} | {norm} | {diff} | {g['mae']:.3f} | {g['rmse']:.3f} | {g['mase']:.3f} | "
                  f"{b['mae']:.3f} | {b['rmse']:.3f} | {b['mase']:.3f} | {beats} |", flush=True)


if __name__ == "__main__":
    main()
