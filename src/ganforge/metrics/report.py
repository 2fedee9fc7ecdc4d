"""A forecaster's test report: scores of the model(s) and every baseline on the same windows,
Diebold-Mariano p-values against each baseline, a verdict at --alpha, interval coverage.

Used by `train forecaster` (one test part) and `backtest` (pooled over folds).
"""
from __future__ import annotations

import numpy as np

from . import forecast as M
from . import significance as G
from .climatology import climatology


def all_baselines(target, starts, horizon: int, window: int, period, train_stop: int, dates=None, freq=None):
    """{name: (M, H)} naive, seasonal naive, window mean, train mean and (yearly season) seasonal mean."""
    return {**M.baselines(target, starts, horizon, window, period),
            **climatology(target, train_stop, starts, horizon, dates, freq)}


def build(y: np.ndarray, forecasts: dict[str, np.ndarray], models: list[str], scale: float, horizon: int,
          alpha: float, bounds: dict | None = None) -> dict:
    """rows {name: scores}, tests {model: {baseline: DM p-values}}, verdict (one line per model),
    coverage {model: {level: share}} from bounds {model: {level: (lower, upper)}}."""
    rows = {name: M.scores(y, p, scale) for name, p in forecasts.items()}
    base = {k: v for k, v in forecasts.items() if k not in models}
    tests = {m: G.compare(y, {m: forecasts[m], **base}, m, horizon) for m in models}
    verdicts = [G.verdict(tests[m], alpha, m) for m in models]
    coverage = {m: {lvl: float(np.mean((y >= lo) & (y <= hi))) for lvl, (lo, hi) in b.items()}
                for m, b in (bounds or {}).items()}
    return {"rows": rows, "tests": tests, "verdict": "\n".join(verdicts), "coverage": coverage}


def table(rows: dict, tests: dict, model: str) -> str:
    """M.table plus the one-sided DM p-values of `model` against each row (absolute, squared errors)."""
    lines = M.table(rows).splitlines()
    out = [lines[0] + f"{'p(|e|)':>9}{'p(e²)':>9}"]
    for line, name in zip(lines[1:], rows):
        t = tests.get(model, {}).get(name)
        out.append(line + (f"{t['p_abs']:>9.3g}{t['p_sq']:>9.3g}" if t else f"{'':>9}{'':>9}"))
    return "\n".join(out)


def quality_text(intervals: dict, lvl: str, name: str) -> str:
    """'78% covered, width 5.1, Winkler 7.3' for one model and level of intervals.quality."""
    q = intervals.get(name, {}).get(lvl)
    return f"{q['coverage']:.0%} covered, width {q['width']:.3g}, Winkler {q['winkler']:.3g}" if q else ""


def interval_lines(intervals: dict, method: str) -> str:
    """One line per model: coverage, mean width and Winkler score of each level, the naive
    forecast's intervals (built the same way) last, as the yardstick."""
    if not intervals:
        return ""
    head = (f"prediction intervals ({method} conformal on validation errors; Winkler: interval score, lower is "
            "better; naive: the naive forecast's intervals built the same way):")
    return "\n".join([head, *(f"  {m}: " + "; ".join(
        f"{float(lvl):.0%} nominal -> {q['coverage']:.1%} inside, mean width {q['width']:.4g}, "
        f"Winkler {q['winkler']:.4g}" for lvl, q in c.items()) for m, c in intervals.items())])
