"""Rolling-origin backtest of the forecaster (expanding window): K folds, each a forecast origin.

The last K * T rows form K consecutive test blocks of T rows. Fold k sees only the rows before
the end of its block: the series is cut there, so neither the scaler (fitted on the fold's
training rows) nor the model can see a later row; the V rows before the block validate (best
checkpoint, early stopping, conformal calibration), everything earlier trains.

--retrain (default) trains a fresh model per fold; --no-retrain trains once at the first origin
and reuses that model and its scaler for every later fold (its validation part then reaches up to
the fold's test block, all of it past data for that model).

Scores per fold for every model and baseline, mean ± std over folds, and one Diebold-Mariano
verdict on the errors pooled over folds; with --intervals the coverage, mean width and Winkler
score of each model's intervals and of the naive forecast's (built the same way), pooled.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..data import series as S
from ..data.calendar import with_calendar
from ..nn import checkpoint
from ..engine.loop import fit
from ..engine.rundir import RunDir
from ..engine.runtime import Runtime, use_threads
from ..errors import UserError
from ..metrics import forecast as M
from ..metrics import intervals as I
from ..metrics import report as R
from ..viz.plots import plot_folds
from .forecaster import ForecasterObjective, read_training_series

LABELS = {"ganforge": "GRU", "torch": "GRU (torch)", "lstm": "LSTM"}
METRICS = ("mae", "rmse", "mase")


# Each fold trains a model to score its test block: a block needs this many forecast windows beyond
# the horizon, or --folds 1000 trains a thousand models to score one row each.
MIN_FOLD_WINDOWS = 3


def min_fold_rows(horizon: int) -> int:
    """The shortest test block a fold may have: MIN_FOLD_WINDOWS windows of --horizon steps."""
    return horizon + MIN_FOLD_WINDOWS - 1


def validate(folds: int, fold_size: int, horizon: int) -> None:
    """The backtest flags' limits that hold whatever the data (before the CSV is read)."""
    if folds < 1:
        raise UserError(f"--folds must be positive, got {folds}")
    if fold_size < 0:
        raise UserError(f"--fold-size must be >= 0, got {fold_size}")
    if 0 < fold_size < min_fold_rows(horizon):
        raise UserError(f"--fold-size {fold_size} is too small: a fold's test block needs at least "
                        f"{min_fold_rows(horizon)} rows ({MIN_FOLD_WINDOWS} forecasts of --horizon {horizon})")


def fold_parts(n: int, folds: int, window: int, horizon: int, val_frac: float, test_frac: float,
               fold_size: int = 0) -> list[S.Splits]:
    """Parts of each fold; fold k's series ends at its test block's last row (parts[k].test.stop)."""
    validate(folds, fold_size, horizon)
    t = fold_size or max(horizon, round(n * test_frac / folds))
    v = max(horizon, round(n * val_frac))
    least = min_fold_rows(horizon)
    if t < least:
        test_rows = round(n * test_frac)
        raise UserError(f"--folds {folds} leaves {t} test row(s) per fold (--test-frac {test_frac:g} of {n} rows is "
                        f"{test_rows}); each fold needs at least {least} ({MIN_FOLD_WINDOWS} forecasts of --horizon "
                        f"{horizon}): use at most {max(1, test_rows // least)} --folds, a larger --test-frac, or "
                        f"--fold-size {least} or more")
    first_train = n - folds * t - v
    if first_train < window + horizon:
        most = max(0, (n - v - window - horizon) // t)
        raise UserError(f"--folds {folds} of {t} test rows each need {folds * t + v + window + horizon} rows "
                        f"(with {v} validation rows and --window {window}); the series has {n}: at most "
                        f"{most} fold(s) fit; use fewer --folds, a smaller --fold-size or --window")
    parts = []
    for k in range(folds):
        end = n - (folds - 1 - k) * t
        parts.append(S.Splits(range(0, end - t - v), range(end - t - v, end - t), range(end - t, end)))
    return parts


def cut(series: S.Series, stop: int) -> S.Series:
    """The series up to (not including) row `stop`: what exists at the fold's end."""
    return dataclasses.replace(series, values=series.values[:stop],
                               dates=None if series.dates is None else series.dates[:stop])


class FoldObjective(ForecasterObjective):
    """A forecaster on one fold: trains like `train forecaster`, but finish() only restores the
    best checkpoint (the backtest scores all folds together)."""

    def finish(self, run: RunDir) -> dict:
        best = run.path / "best.pt"
        if best.exists():
            checkpoint.load_module(self.net, checkpoint.load(best, self.task), "net")
        return {}


def train_fold(cfg, series: S.Series, parts: S.Splits, path: Path) -> FoldObjective:
    rt = Runtime.from_config(cfg)
    try:
        rt.seed_rank(cfg.seed)
        obj = FoldObjective(cfg, rt, series=series, parts=parts)
        path.mkdir(parents=True, exist_ok=True)
        run = RunDir(path)
        run.save_config(cfg)
        fit(obj, run)
    finally:
        rt.close(True)
    return obj


def run_backtest(cfg, folds: int, retrain: bool = True, cells=None, fold_size: int = 0,
                 methods=()) -> tuple[Path, dict]:
    """Backtest `cfg` (a ForecasterConfig) on `folds` rolling origins for each cell in `cells`
    (default: cfg.cell); with --intervals, `methods` adds interval methods scored beside
    cfg.interval_method on the same forecasts. Returns (backtest directory, result dict)."""
    from tqdm import tqdm

    validate(folds, fold_size, cfg.horizon)
    cells = list(cells or [cfg.cell])
    bad = [c for c in cells if c not in LABELS]
    if bad:
        raise UserError(f"--cells: {bad[0]!r} is not one of {', '.join(LABELS)}")
    series = read_training_series(cfg)
    if cfg.calendar:
        series = with_calendar(series, cfg.horizon)
    parts = fold_parts(len(series), folds, cfg.window, cfg.horizon, cfg.val_frac, cfg.test_frac, fold_size)
    # one seasonal period for every fold (so the baselines are the same), from the first fold's training rows
    period = cfg.season or M.detect_period(series.target[:parts[0].train.stop], series.freq) or 0
    out = RunDir.create(cfg.out, "backtest")
    out.save_config(cfg)
    out.record_session({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "folds": folds, "cells": cells,
                        "threads": use_threads(cfg.threads)})
    labels = [LABELS[c] for c in cells]
    per_fold = [dict() for _ in parts]      # fold -> {"actual", "forecasts", "bounds", "rows", "scale", ...}
    bar = tqdm(total=len(cells) * folds, desc="backtest", unit="fold", disable=not cfg.progress)
    for cell, label in zip(cells, labels):
        first = None
        for k, p in enumerate(parts):
            fcfg = dataclasses.replace(cfg, cell=cell, season=period, progress=False)
            fseries = cut(series, p.test.stop)
            if retrain or first is None:
                obj = train_fold(fcfg, fseries, p, out.path / f"{cell}-fold{k + 1}")
                first = first or obj
            else:   # the first origin's model and scaler: same training rows, validation up to this block
                obj = FoldObjective(dataclasses.replace(fcfg, steps=first.cfg.steps), series=fseries,
                                    parts=S.Splits(first.parts.train, range(first.parts.train.stop, p.test.start),
                                                   p.test))
                obj.net.load_state_dict(first.net.state_dict())
            obj.label = label
            rep = obj.test_report(methods=methods)
            f = per_fold[k]
            f.setdefault("actual", rep["actual"])
            f.setdefault("starts", rep["starts"])
            f.setdefault("scale", M.mase_scale(fseries.target[:p.train.stop]))
            f.setdefault("forecasts", {}).update(
                {name: v for name, v in rep["forecasts"].items() if name == label or name not in LABELS.values()})
            f.setdefault("bounds", {}).update(rep["bounds"])
            for m, b in rep["interval_bounds"].items():     # {method: {model or naive: {level: (lo, hi)}}}
                f.setdefault("interval_bounds", {}).setdefault(m, {}).update(b)
            bar.update(1)
    bar.close()
    result = summarize(per_fold, labels, cfg, parts)
    result["dir"] = str(out.path)
    (out.path / "backtest.json").write_text(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    result["per_fold"] = per_fold       # raw arrays (actual, forecasts, bounds) for callers; not in the JSON
    plot_folds(per_fold, labels, series, out.path / "backtest.png", cfg.interval_method)
    out.close()
    return out.path, result


def summarize(per_fold: list[dict], labels: list[str], cfg, parts) -> dict:
    """Per-fold scores, mean ± std over folds, pooled DM tests, pooled interval coverage."""
    names = [*labels, *(n for n in per_fold[0]["forecasts"] if n not in labels)]   # models first
    fold_rows = [{n: M.scores(f["actual"], f["forecasts"][n], f["scale"]) for n in names} for f in per_fold]
    y = np.concatenate([f["actual"] for f in per_fold])
    pooled = {n: np.concatenate([f["forecasts"][n] for f in per_fold]) for n in names}
    bounds = {m: {lvl: tuple(np.concatenate([f["bounds"][m][lvl][i] for f in per_fold]) for i in (0, 1))
                  for lvl in per_fold[0]["bounds"].get(m, {})} for m in labels if m in per_fold[0]["bounds"]}
    scale = float(np.mean([f["scale"] for f in per_fold]))
    rep = R.build(y, pooled, labels, scale, cfg.horizon, cfg.alpha, bounds)
    mean = {n: {m: float(np.mean([r[n][m] for r in fold_rows])) for m in METRICS} for n in names}
    std = {n: {m: float(np.std([r[n][m] for r in fold_rows], ddof=1)) if len(fold_rows) > 1 else 0.0
               for m in METRICS} for n in names}
    text = [f"rolling-origin backtest: {len(parts)} folds, test blocks of {len(parts[0].test)} rows "
            f"(targets {parts[0].test.start}..{parts[-1].test.stop - 1}); original units, mean ± std over folds; "
            f"p: one-sided Diebold-Mariano (HLN) p-values on the errors pooled over folds"]
    w = max(len(n) for n in names) + 2
    head = f"{'':<{w}}" + "".join(f"{m.upper():>16}" for m in METRICS)
    for m in labels:
        head += f"{'p ' + m + ' |e|':>16}{'p ' + m + ' e²':>16}"
    text.append(head)
    for n in names:
        line = f"{n:<{w}}" + "".join(f"{mean[n][m]:>9.3f} ± {std[n][m]:<5.3f}" for m in METRICS)
        for m in labels:
            t = rep["tests"][m].get(n)
            line += f"{t['p_abs']:>16.3g}{t['p_sq']:>16.3g}" if t else f"{'':>32}"
        text.append(line)
    text.append("per fold MAE: " + "; ".join(
        f"{n} " + " ".join(f"{r[n]['mae']:.3f}" for r in fold_rows) for n in names))
    text.append(rep["verdict"])
    by_method = {m: {n: I.quality(y, pool_bounds(per_fold, m, n)) for n in sorted(b, key=lambda n: n == "naive")}
                 for m, b in per_fold[0].get("interval_bounds", {}).items()}
    quality = by_method.get(cfg.interval_method, {})
    if quality:
        text.append(R.interval_lines(quality, cfg.interval_method))
    fold_quality = [{n: I.quality(f["actual"], b) for n, b in f.get("interval_bounds", {}).get(cfg.interval_method,
                                                                                               {}).items()}
                    for f in per_fold]
    return {"folds": [{"test_rows": [p.test.start, p.test.stop], "train_rows": [0, p.train.stop],
                       "val_rows": [p.val.start, p.val.stop], **r, **({"intervals": q} if q else {})}
                      for p, r, q in zip(parts, fold_rows, fold_quality)],
            "mean": mean, "std": std, "pooled": rep["rows"], "dm_tests": rep["tests"], "verdict": rep["verdict"],
            "coverage": rep["coverage"], "interval_method": cfg.interval_method if quality else None,
            "intervals": quality, **({"intervals_by_method": by_method} if len(by_method) > 1 else {}),
            "text": "\n".join(text)}


def pool_bounds(per_fold: list[dict], method: str, name: str) -> dict:
    """{level: (lower, upper)} of one model's `method` intervals, concatenated over folds."""
    first = per_fold[0]["interval_bounds"][method][name]
    return {lvl: tuple(np.concatenate([f["interval_bounds"][method][name][lvl][i] for f in per_fold]) for i in (0, 1))
            for lvl in first}
