"""Calendar covariates (--calendar): day of week and day of year as sin/cos pairs.

They are known in advance for any future date, so they may describe the *forecast* date: input
row i carries the calendar of the date `horizon` steps after it. The last input row of a window
(row t-1) therefore describes the last forecast date t+H-1, and the forecaster can use the season
without reading a year of history. Computed from the dates alone; nothing is read from the CSV.
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError

COLUMNS = ("cal:dow_sin", "cal:dow_cos", "cal:doy_sin", "cal:doy_cos")


def features(dates: np.ndarray, freq: str, horizon: int) -> np.ndarray:
    """(N, 4) sin/cos of day of week (period 7) and day of year (period 365.25) of dates + horizon steps."""
    import pandas as pd

    when = pd.DatetimeIndex(dates).shift(horizon, freq=freq)
    dow = when.day_of_week.to_numpy(float) + when.hour.to_numpy(float) / 24
    doy = when.day_of_year.to_numpy(float) - 1 + when.hour.to_numpy(float) / 24
    a, b = 2 * np.pi * dow / 7, 2 * np.pi * doy / 365.25
    return np.stack([np.sin(a), np.cos(a), np.sin(b), np.cos(b)], axis=1)


def with_calendar(series, horizon: int):
    """A copy of `series` (ganforge.data.series.Series) with the four calendar columns appended."""
    from dataclasses import replace

    if series.dates is None or not series.freq:
        raise UserError(f"--calendar needs dates, and {series.name} has no date column "
                        "(name it with --date-column, or drop --calendar)")
    if any(c in COLUMNS for c in series.columns):
        return series
    cal = features(series.dates, series.freq, horizon)
    return replace(series, columns=[*series.columns, *COLUMNS], values=np.concatenate([series.values, cal], axis=1))


def data_columns(columns) -> list[str]:
    """The columns that come from the CSV (without the calendar ones)."""
    return [c for c in columns if c not in COLUMNS]
