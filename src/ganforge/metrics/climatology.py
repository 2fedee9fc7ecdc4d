"""Climatology baselines: what the training part says on average, ignoring the recent past.

train mean: the mean of the training rows, for every forecast. seasonal mean: the mean of the
training rows that share the target's place in the year (day of year for daily data, week for
weekly, month for monthly), used when the training part holds two years that correlate at the
yearly lag (the usual test: r >= max(0.1, 3 / sqrt(pairs))); a place the training part never saw
falls back to the training mean. Both see training rows only.
"""
from __future__ import annotations

import numpy as np

# pandas frequency (first letters) -> the period that is one year, and how to find a date's place in it
YEARLY = {"D": 365, "B": 260, "W": 52, "M": 12, "MS": 12, "ME": 12}


def season_keys(dates: np.ndarray, freq: str) -> np.ndarray | None:
    import pandas as pd

    key = (freq or "").lstrip("0123456789")
    idx = pd.DatetimeIndex(dates)
    if key.startswith("W"):
        return idx.isocalendar().week.to_numpy(int)
    if key in ("M", "MS", "ME"):
        return idx.month.to_numpy(int)
    if key in ("D", "B"):
        # 29 February shares 28 February's slot so leap years do not shift the rest of the year
        doy = idx.day_of_year.to_numpy(int)
        return np.where(idx.is_leap_year & (doy > 59), doy - 1, doy)
    return None


def yearly_season(train: np.ndarray, freq: str | None) -> bool:
    """Does the training part show a yearly season (two full years, clear correlation at the yearly lag)?"""
    from .forecast import autocorrelation

    key = (freq or "").lstrip("0123456789")
    lag = YEARLY.get(key, YEARLY.get(key[:1]))
    n = len(train)
    return bool(lag) and 2 * lag <= n and autocorrelation(train, lag) >= max(0.1, 3 / np.sqrt(n - lag))


def climatology(target: np.ndarray, train_stop: int, starts, horizon: int, dates=None,
                freq: str | None = None) -> dict[str, np.ndarray]:
    """{name: (M, H)} train mean, plus the seasonal (by place in the year) mean when the training part has a yearly season."""
    grid = np.asarray(starts)[:, None] + np.arange(horizon)[None, :]
    train = np.asarray(target[:train_stop], float)
    mean = float(train.mean())
    out = {"train mean": np.full(grid.shape, mean)}
    if dates is not None and yearly_season(train, freq):
        keys = season_keys(dates, freq)
        if keys is not None:
            size = int(keys.max()) + 1
            total = np.bincount(keys[:train_stop], weights=train, minlength=size)
            count = np.bincount(keys[:train_stop], minlength=size)
            table = np.where(count > 0, total / np.maximum(count, 1), mean)
            out["seasonal mean"] = table[keys[grid]]
    return out
