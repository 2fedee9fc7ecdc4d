"""Prediction intervals from forecast errors, and how good they are.

Four ways to turn calibration errors (actual - forecast of the validation windows, in time order)
into half-widths around new forecasts, one per horizon step h:

  split            split conformal: the ceil((n+1)a)-th smallest |error| of the n calibration
                   windows, fixed (exchangeable errors assumed).
  scaled           the same on |error| / s, s the window's local scale (mean |one-step change| of
                   the --column values the model reads); the half-width is q * s of each window, so
                   it follows a scale that drifts between calibration and use.
  adaptive         adaptive conformal inference (Gibbs & Candes 2021) on |error|: as actual values
                   arrive, the calibration set slides forward (the latest n scores) and the level
                   a_t moves by gamma * (miss - (1 - a)), so misses widen the next intervals.
  adaptive-scaled  adaptive on the scaled scores.

Online updates use only errors whose target row lies before the forecast origin (a step-h error of
the window starting at t is known from origin t + h + 1 on). Scores: coverage, mean width and the
interval (Winkler) score of Gneiting & Raftery (2007).
"""
from __future__ import annotations

import numpy as np

from .significance import conformal_rank, level_key

METHODS = ("split", "scaled", "adaptive", "adaptive-scaled")
GAMMA = 0.05


def local_scale(target: np.ndarray, starts, window: int) -> np.ndarray:
    """(M,) mean |y[t] - y[t-1]| over the `window` input rows of each window (t < starts[m])."""
    d = np.abs(np.diff(np.asarray(target, float), prepend=np.nan))
    d[0] = 0.0
    c = np.concatenate([[0.0], np.cumsum(d)])
    s = np.asarray(starts, int)
    lo = np.clip(s - max(window, 2) + 1, 1, None)       # differences of rows lo-1..s-1, all observed
    n = np.maximum(s - lo, 1)
    return (c[s] - c[lo]) / n


def _scores(err: np.ndarray, scale: np.ndarray | None, floor: float) -> np.ndarray:
    e = np.abs(np.asarray(err, float))
    e = e.reshape(len(e), -1)
    return e if scale is None else e / np.maximum(np.asarray(scale, float), floor)[:, None]


def half_widths(method: str, levels, cal_err: np.ndarray, cal_scale: np.ndarray, starts, scale: np.ndarray,
                err: np.ndarray | None = None, gamma: float = GAMMA) -> dict[str, np.ndarray]:
    """{level key: (M, H) half-widths} for M windows starting at `starts` (M,) (time order).

    cal_err (Mc, H), cal_scale (Mc,): calibration errors and local scales, in time order, all
    observed before the first window; scale (M,): local scales of the windows; err (M, H): their
    errors, used only by the adaptive methods and only once observed (None: nothing observed,
    as when forecasting the future)."""
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; one of {', '.join(METHODS)}")
    scaled = method.endswith("scaled")
    floor = 0.1 * float(np.median(cal_scale)) if scaled and len(cal_scale) else 0.0
    floor = floor if floor > 0 else 1e-12
    cal = _scores(cal_err, cal_scale if scaled else None, floor)
    m, h = len(starts), cal.shape[1]
    mult = np.maximum(np.asarray(scale, float), floor)[:, None] if scaled else np.ones((m, 1))
    out = {}
    for a in levels:
        if method.startswith("adaptive"):
            score = None if err is None else _scores(err, scale if scaled else None, floor)
            q = np.stack([_aci(cal[:, j], None if score is None else score[:, j], np.asarray(starts), j, float(a),
                               gamma) for j in range(h)], axis=1)
        else:
            srt = np.sort(cal, axis=0)
            q = np.broadcast_to([conformal_rank(srt[:, j], float(a)) for j in range(h)], (m, h))
        out[level_key(a)] = q * mult
    return out


def _aci(cal: np.ndarray, score: np.ndarray | None, starts: np.ndarray, step: int, level: float,
         gamma: float) -> np.ndarray:
    """(M,) adaptive-conformal thresholds for one horizon step (0-based `step`)."""
    n, target = len(cal), 1.0 - level
    buf, alpha = list(cal), target
    q = np.empty(len(starts))
    nxt = 0                                   # first window whose step-`step` outcome is not yet released
    for i, t in enumerate(starts):
        while score is not None and nxt < i and starts[nxt] + step < t:
            s = score[nxt]
            if np.isfinite(s):
                alpha += gamma * (target - float(s > q[nxt]))
                buf.append(s)
            nxt += 1
        q[i] = conformal_rank(np.sort(buf[-n:]), 1.0 - alpha, cap=True)
    return q


def bounds(pred: np.ndarray, widths: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{level: (lower, upper)} for forecasts (M, H) and half-widths {level: (M, H) or (H,)}."""
    return {lvl: (pred - np.asarray(w), pred + np.asarray(w)) for lvl, w in widths.items()}


def winkler(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> float:
    """Mean interval score of central (level) intervals: width + (2 / (1 - level)) * the distance
    by which y falls outside (Gneiting & Raftery 2007, eq. 43). Lower is better."""
    y, lo, hi = (np.asarray(v, float) for v in (y, lower, upper))
    k = 2.0 / (1.0 - float(level))
    return float(np.mean((hi - lo) + k * np.clip(lo - y, 0, None) + k * np.clip(y - hi, 0, None)))


def quality(y: np.ndarray, bounds_: dict) -> dict[str, dict[str, float]]:
    """{level: {"coverage", "width", "winkler"}} of {level: (lower, upper)} against actual y."""
    return {lvl: {"coverage": float(np.mean((y >= lo) & (y <= hi))), "width": float(np.mean(hi - lo)),
                  "winkler": winkler(y, lo, hi, float(lvl))} for lvl, (lo, hi) in bounds_.items()}
