"""Forecast errors (MAE, RMSE, sMAPE, MASE) and the baselines a forecaster must beat.

Every function works on numpy arrays in original units. A set of forecast windows is given by
`starts` (M,): window m predicts target rows starts[m] .. starts[m]+H-1 from the rows before
starts[m] (see ganforge.data.series.windows). Baselines use the same windows and only the past.
"""
from __future__ import annotations

import numpy as np

# Seasonal periods worth trying for a pandas frequency (the first letters of its offset string).
CANDIDATE_PERIODS = {"D": (7, 365), "B": (5, 260), "h": (24, 168), "H": (24, 168), "W": (52,),
                     "M": (12,), "MS": (12,), "ME": (12,), "Q": (4,), "QS": (4,), "QE": (4,),
                     "min": (60, 1440), "T": (60, 1440)}


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def smape(y: np.ndarray, p: np.ndarray) -> float:
    """Symmetric MAPE in percent, 0..200; a point where both are 0 counts as a perfect 0."""
    denom = np.abs(y) + np.abs(p)
    ratio = np.divide(2 * np.abs(y - p), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase_scale(train: np.ndarray) -> float:
    """In-sample MAE of the one-step naive forecast on the training part (Hyndman & Koehler 2006)."""
    return float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else float("nan")


def scores(y: np.ndarray, p: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, sMAPE (%) and MASE of forecasts p against actual y (same shape)."""
    err = mae(y, p)
    return {"mae": err, "rmse": rmse(y, p), "smape": smape(y, p),
            "mase": err / scale if scale > 0 else float("nan")}


def _grid(starts: np.ndarray, horizon: int) -> np.ndarray:
    """(M, H) target row indices."""
    return np.asarray(starts)[:, None] + np.arange(horizon)[None, :]


def actual(target: np.ndarray, starts, horizon: int) -> np.ndarray:
    """The (M, H) true values of the windows."""
    return target[_grid(starts, horizon)]


def naive(target: np.ndarray, starts, horizon: int) -> np.ndarray:
    """Last observed value, repeated over the horizon: (M, H)."""
    last = target[np.asarray(starts) - 1]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive(target: np.ndarray, starts, horizon: int, period: int) -> np.ndarray:
    """Value one period earlier, y[t+h - period*(h//period + 1)], so it is always observed: (M, H)."""
    h = np.arange(horizon)
    idx = _grid(starts, horizon) - period * (h // period + 1)[None, :]
    if idx.min() < 0:
        raise ValueError(f"seasonal naive with period {period} needs {-idx.min()} more rows of history")
    return target[idx]


def window_mean(target: np.ndarray, starts, horizon: int, window: int) -> np.ndarray:
    """Mean of the same W input values the model sees, repeated over the horizon: (M, H)."""
    c = np.concatenate([[0.0], np.cumsum(target)])
    s = np.asarray(starts)
    means = (c[s] - c[s - window]) / window
    return np.repeat(means[:, None], horizon, axis=1)


def autocorrelation(x: np.ndarray, lag: int) -> float:
    """Pearson correlation of x[t] and x[t-lag]: unlike the textbook estimator it does not
    shrink long lags towards 0, so 365 days competes fairly with 7."""
    x = np.asarray(x, float)
    if not 0 < lag < len(x) - 1:
        return 0.0
    a, b = x[:-lag] - x[:-lag].mean(), x[lag:] - x[lag:].mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / denom) if denom > 0 else 0.0


def detect_period(train: np.ndarray, freq: str | None = None, max_lag: int = 1000) -> int | None:
    """The seasonal period with the strongest autocorrelation on the training part.

    With a known frequency only its usual periods are tried (daily: 7 and 365, hourly: 24 and
    168, monthly: 12, ...); without one, every lag 2..N/2 that is a local peak. A period needs two
    full cycles of training data; None when nothing correlates clearly (r below 0.1 or within
    three standard errors of white noise).
    Of nearly equal candidates the shortest wins (a multiple of the period correlates as well).
    """
    n = len(train)
    if freq:
        key = freq.lstrip("0123456789")
        candidates = [m for m in CANDIDATE_PERIODS.get(key, CANDIDATE_PERIODS.get(key[:1], ())) if 2 * m <= n]
    else:
        acf = [autocorrelation(train, lag) for lag in range(1, min(n // 2, max_lag) + 2)]
        candidates = [lag for lag in range(2, len(acf)) if acf[lag - 1] >= acf[lag - 2] and acf[lag - 1] >= acf[lag]]
    # keep correlations well above white-noise level (standard error ~ 1/sqrt(pairs))
    acf = {m: r for m in candidates if (r := autocorrelation(train, m)) >= max(0.1, 3 / np.sqrt(n - m))}
    if not acf:
        return None
    # multiples of the true period correlate as well as the period itself: take the shortest
    return min(m for m, r in acf.items() if r >= max(acf.values()) - 0.02)


def baselines(target: np.ndarray, starts, horizon: int, window: int, period: int | None) -> dict[str, np.ndarray]:
    """{name: (M, H) forecasts} for naive, seasonal naive (when a period is known and the
    history is long enough) and the window mean."""
    out = {"naive": naive(target, starts, horizon)}
    if period and np.min(starts) - period >= 0:
        out[f"seasonal naive ({period})"] = seasonal_naive(target, starts, horizon, period)
    out["window mean"] = window_mean(target, starts, horizon, window)
    return out


def table(rows: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per forecaster, columns MAE RMSE sMAPE MASE."""
    width = max(len(k) for k in rows) + 2
    lines = [f"{'':<{width}}{'MAE':>9}{'RMSE':>9}{'sMAPE%':>9}{'MASE':>8}"]
    for name, s in rows.items():
        lines.append(f"{name:<{width}}{s['mae']:>9.3f}{s['rmse']:>9.3f}{s['smape']:>9.2f}{s['mase']:>8.3f}")
    return "\n".join(lines)


def verdict(model: dict[str, float], base: dict[str, dict[str, float]], name: str = "GRU") -> str:
    """One plain sentence on whether the model beats every baseline on MAE and RMSE, naming each loss."""
    lost = [f"{b} on {m.upper()} ({model[m]:.4g} vs {s[m]:.4g})"
            for b, s in base.items() for m in ("mae", "rmse") if s[m] <= model[m]]
    if not lost:
        return f"the {name} beats every baseline on test MAE and RMSE"
    return (f"the {name} does NOT beat {'; '.join(lost)}: "
            "use the better baseline, or try more --epochs, another --window or extra --features")
