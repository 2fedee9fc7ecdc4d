"""Dates of a user's CSV column: the order of numeric dates (day or month first) detected from the
dates that can only be read one way, ambiguous and inconsistent columns refused, then parsed.

    df, dates, fmt, note = parse_dates(df, "day", "")    # fmt: dayfirst / monthfirst / "" (ISO) as detected
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from ..errors import UserError

# A date whose first two fields are numbers, either of which may be the day: 02/01/2020, 2.1.20, 13-01-2020 10:00
NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")


def csv_lines(mask, limit: int = 5) -> str:
    """CSV line numbers (the header is line 1) of the True entries, the first few."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i + 2) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def date_order(raw, date_column: str, date_format: str = "") -> tuple[str, str | None]:
    """Which of day and month comes first in the numeric dates (02/01/2020) of a column, from
    the dates that can only be one way (13/01/2020, 01/13/2020): (order, a note when it was detected
    and is not the usual month first). date_format "" detects; dayfirst / monthfirst check that
    no date contradicts it. Ambiguous (every date reads both ways) or inconsistent dates: UserError."""
    text = raw.astype(str)
    m = text.str.extract(NUMERIC_DATE)
    numeric = m[0].notna().to_numpy()
    if not numeric.any():
        return date_format, None
    a, b = m[0].astype(float).to_numpy(), m[2].astype(float).to_numpy()
    day_first, month_first = numeric & (a > 12), numeric & (b > 12)   # no month 13: the field is the day

    def example(mask) -> str:
        i = int(np.flatnonzero(mask)[0])
        return f"line {i + 2} {text.iloc[i]!r}"

    if date_format == "dayfirst" and month_first.any():
        raise UserError(f"column {date_column!r}: {example(month_first)} is not a day-first date (--date-format "
                        f"dayfirst); fix that row, or pass the format of the whole column with --date-format")
    if date_format == "monthfirst" and day_first.any():
        raise UserError(f"column {date_column!r}: {example(day_first)} is not a month-first date (--date-format "
                        f"monthfirst); fix that row, or pass the format of the whole column with --date-format")
    if date_format:
        return date_format, None
    if day_first.any() and month_first.any():
        raise UserError(f"column {date_column!r}: inconsistent dates: {example(day_first)} can only be day first, "
                        f"{example(month_first)} only month first; correct the rows that do not follow the "
                        "column's format, then pass --date-format dayfirst or --date-format monthfirst")
    if day_first.any():
        return "dayfirst", (f"column {date_column!r}: dates read day first (DD/MM), as {example(day_first)} shows; "
                            "--date-format sets this explicitly")
    if month_first.any():
        return "monthfirst", None
    both = numeric & (a != b)
    if both.any():
        import pandas as pd

        i = int(np.flatnonzero(both)[0])
        day, month = (show_time(pd.to_datetime(text.iloc[i], dayfirst=d)) for d in (True, False))
        raise UserError(f"column {date_column!r}: ambiguous dates: every date reads both day first and month first, "
                        f"e.g. line {i + 2} {text.iloc[i]!r} is {day} or {month}; pass --date-format dayfirst or "
                        "--date-format monthfirst (or a strftime format like %d/%m/%Y)")
    return "monthfirst", None


def _to_datetime(raw, date_format: str):
    """Parse a date column by a resolved --date-format: mixed (each date on its own, pandas' guess),
    dayfirst / monthfirst (numeric dates in that order, ISO and other dates as usual), "" (as usual),
    or a strftime format. Unparseable dates become NaT."""
    import pandas as pd

    with warnings.catch_warnings():    # pandas warns when it guesses a format per element
        warnings.simplefilter("ignore")
        if "%" in date_format:
            return pd.to_datetime(raw, errors="coerce", format=date_format)
        dates = pd.to_datetime(raw, errors="coerce", format="mixed")
        if date_format == "dayfirst":     # only the numeric rows: pandas' dayfirst also swaps ISO 2020-01-02
            numeric = raw.astype(str).str.match(NUMERIC_DATE).to_numpy()
            if numeric.any():
                dates = dates.copy()
                dates[numeric] = pd.to_datetime(raw[numeric], errors="coerce", format="mixed", dayfirst=True)
        return dates


def parse_dates(df, date_column: str, date_format: str = "mixed"):
    """Parsed, sorted dates; the frame re-ordered to match; the format they were read with; a note
    when the order was detected. Errors name CSV line numbers."""
    import pandas as pd

    raw = df[date_column]
    note = None
    if date_format != "mixed" and "%" not in date_format and not pd.api.types.is_datetime64_any_dtype(raw):
        date_format, note = date_order(raw, date_column, date_format)
    dates = _to_datetime(raw, date_format)
    bad = dates.isna()
    if bad.any():
        first = raw[bad].iloc[0]
        fmt = f" with --date-format {date_format}" if "%" in date_format else ""
        raise UserError(f"column {date_column!r}: unparseable or missing dates{fmt} on line(s) {csv_lines(bad)} "
                        f"(e.g. {first!r})")
    dup = dates.duplicated(keep=False)
    if dup.any():
        shown = ", ".join(sorted({show_time(d) for d in dates[dup]})[:5])
        raise UserError(f"column {date_column!r}: duplicate dates ({shown}) on lines {csv_lines(dup)}")
    order = np.argsort(dates.values, kind="stable")
    return df.iloc[order].reset_index(drop=True), pd.DatetimeIndex(dates.values[order]), date_format, note


def show_time(t) -> str:
    """A timestamp without a 00:00:00 tail, a timedelta as '1 day' or '6:00:00'."""
    import pandas as pd

    if isinstance(t, pd.Timedelta):
        return f"{t.days} day{'s' * (t.days != 1)}" if t == pd.Timedelta(days=t.days) else str(t)
    return str(t.date()) if t == t.normalize() else str(t)
