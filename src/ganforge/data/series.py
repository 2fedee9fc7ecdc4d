"""Time series from a CSV file: checked dates, chronological splits, a train-only scaler, windows.

    s = read_series("weather.csv", "temp_max", features=["temp_min"])     # checks everything
    parts = split(len(s), window=100, horizon=1)                          # targets per part
    scaler = MinMaxScaler.fit(s.values[:parts.train.stop])                # train rows only
    X, Y = windows(torch.from_numpy(scaler.transform(s.values)), 100, 1, parts.test)

Column 0 of `values` is always the predicted column; extra input columns follow it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from ..config.forecaster import parse_sep
from ..errors import UserError
from .dates import csv_lines, parse_dates, show_time

DATE_NAMES = ("date", "datetime", "time", "timestamp", "ds", "day")
FILLS = ("none", "interpolate", "ffill")
SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def builtin_csv() -> Path:
    """The embedded daily Seattle weather 2012-2015 (NOAA, public domain)."""
    return Path(str(resources.files("ganforge") / "data" / "builtin" / "seattle-weather.csv"))


@dataclass
class Series:
    """values (N, F) float64, column 0 = target; dates (N,) datetime64 or None; freq a pandas
    offset string ('D', 'h', 'MS', ...) or None without dates."""

    name: str
    columns: list[str]
    values: np.ndarray
    dates: np.ndarray | None
    freq: str | None
    date_column: str | None
    date_format: str = ""      # how the dates were read: dayfirst, monthfirst, a strftime, mixed, "" (ISO / none)
    sep: str = ","             # the CSV's delimiter (sniffed or --sep)
    notes: list[str] = field(default_factory=list)   # what reading decided on its own (date order, fills), for stderr

    def __len__(self) -> int:
        return len(self.values)

    @property
    def target(self) -> np.ndarray:
        return self.values[:, 0]


def sniff_sep(path: Path) -> str:
    """The delimiter of a CSV: of , ; tab |, the one its header line holds most of (a comma on a tie
    or none: a one-column file). The header, not the data, because numbers may hold decimal commas."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            header = next((ln for ln in f if ln.strip()), "")
    except OSError:
        return ","      # read_csv then says what is wrong with the file
    counts = {sep: header.count(sep) for sep in SEP_NAMES}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def read_frame(csv, sep: str = "") -> "pd.DataFrame":
    """The CSV as a frame; sep: its delimiter, "" to sniff it (the one used is in df.attrs["sep"])."""
    import pandas as pd

    path = Path(csv)
    if not path.is_file():
        raise UserError(f"CSV file {path} does not exist")
    sep = parse_sep(sep) or sniff_sep(path)
    try:   # semicolons mostly separate numbers with decimal commas (12,5); 12.5 still parses, as text
        df = pd.read_csv(path, sep=sep, **({"decimal": ","} if sep == ";" else {}))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {path} as CSV: {str(e).strip().splitlines()[0]}") from None
    if df.empty:
        raise UserError(f"{path} has no data rows")
    df.attrs["sep"] = sep
    return df


def _merged_hint(df) -> str:
    """When every header lands in one column, the words that point at --sep."""
    if len(df.columns) == 1:
        name = str(df.columns[0])
        other = next((s for s in SEP_NAMES if s in name and s != df.attrs.get("sep")), None)
        if other:
            return (f"; the header {name!r} looks {SEP_NAMES[other]}-separated: "
                    f"pass --sep {'tab' if other == chr(9) else repr(other)}")
    return ""


def find_date_column(df, date_column: str | None) -> str | None:
    if date_column:
        if date_column not in df.columns:
            raise UserError(f"--date-column {date_column!r} is not in the CSV; columns: {', '.join(map(str, df.columns))}")
        return date_column
    return next((c for c in df.columns if str(c).strip().lower() in DATE_NAMES), None)


def regular_index(dates, fill: str, max_fill: float = 1.0):
    """The regular date grid the series lives on, and its pandas frequency.

    Missing dates (gaps that are whole multiples of the usual step) become missing rows when
    --fill is given; any other irregular spacing is an error.
    """
    import pandas as pd

    if len(dates) < 3:
        raise UserError(f"the series has only {len(dates)} dated rows")
    with warnings.catch_warnings():   # pandas 3 warns that infer_freq will return an offset object
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(dates)
    if freq is not None:
        return dates, getattr(freq, "freqstr", freq)
    steps = np.diff(dates.values)
    usual = pd.Series(steps).mode().iloc[0]
    grid = pd.date_range(dates[0], dates[-1], freq=pd.Timedelta(usual))
    on_grid = dates.isin(grid)
    if not on_grid.all():
        i = int(np.flatnonzero(~on_grid)[0])
        raise UserError(f"irregular spacing: {show_time(dates[i - 1])} -> {show_time(dates[i])} is not a multiple "
                        f"of the usual step of {show_time(pd.Timedelta(usual))}; resample the data to a regular "
                        "interval first")
    gap = int(np.flatnonzero(steps != usual)[0])
    if fill == "none":
        missing = len(grid) - len(dates)
        what = (f"irregular spacing: {missing} missing date(s), the first after {show_time(dates[gap])} (next is "
                f"{show_time(dates[gap + 1])}, usual step {show_time(pd.Timedelta(usual))})")
        if missing > max_fill * len(grid):   # that many gaps are more likely misread dates than lost rows
            raise UserError(f"{what}: {missing / len(grid):.0%} of the dates, more than --max-fill {max_fill:.0%} "
                            "allows filling; check the date format (--date-format) and the data, or pass --fill "
                            "interpolate with a larger --max-fill")
        raise UserError(f"{what}; pass --fill interpolate or --fill ffill to fill them in")
    return grid, pd.tseries.frequencies.to_offset(pd.Timedelta(usual)).freqstr


def numeric_column(df, col: str) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise UserError(f"column {col!r} has non-numeric values on line(s) {csv_lines(bad)} "
                        f"(e.g. {df[col][bad].iloc[0]!r})")
    return values.to_numpy(float)


def read_series(csv=None, column: str = "temp_max", date_column: str | None = None,
                features: list[str] | tuple = (), fill: str = "none", date_format: str = "mixed",
                sep: str = ",", max_fill: float = 1.0) -> Series:
    """Read, check and (when asked) fill one target column plus extra input columns.

    csv: a path, a pandas DataFrame (a DatetimeIndex counts as a date column), or None for the
    embedded Seattle weather. date_format: "" detects day-first / month-first numeric dates, else
    dayfirst, monthfirst, a strftime format, or mixed (each date guessed on its own: checkpoints
    older than --date-format). sep: the delimiter, "" to sniff it. max_fill: the largest fraction
    of rows --fill may invent. The defaults keep the behaviour from before those flags."""
    import pandas as pd

    if fill not in FILLS:
        raise UserError(f"--fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if isinstance(csv, pd.DataFrame):
        dated = isinstance(csv.index, pd.DatetimeIndex)
        df = csv.rename_axis(csv.index.name or "date").reset_index() if dated else csv.reset_index(drop=True)
        path = Path("dataframe")
        if df.empty:
            raise UserError("the data frame has no rows")
    else:
        path = Path(csv) if csv else builtin_csv()
        df = read_frame(path, sep)
    notes = []
    date_col = find_date_column(df, date_column)
    columns = [column, *[f for f in features if f != column]]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(f"column {missing[0]!r} is not in {path.name}; columns: {', '.join(map(str, df.columns))}"
                        + _merged_hint(df))
    if date_col in columns:
        raise UserError(f"{date_col!r} is the date column; it cannot also be predicted or used as a feature")
    dates = freq = None
    if date_col is not None:
        df, dates, date_format, note = parse_dates(df, date_col, date_format)
        notes += [note] if note else []
        grid, freq = regular_index(dates, fill, max_fill)
    values = np.stack([numeric_column(df, c) for c in columns], axis=1)
    n_values = int(np.isnan(values).sum())        # empty cells of the rows the CSV has
    if dates is not None and len(grid) != len(dates):
        frame = pd.DataFrame(values, index=dates).reindex(grid)
        values, dates = frame.to_numpy(float), grid
    n_dates = len(values) - len(df)               # rows for dates the CSV lacks
    gaps = np.isnan(values)
    if gaps.any():
        if fill == "none":
            col = columns[int(np.flatnonzero(gaps.any(0))[0])]
            raise UserError(f"column {col!r} has missing values on line(s) {csv_lines(gaps.any(1))}; "
                            "pass --fill interpolate or --fill ffill")
        rows = int(gaps.any(1).sum())
        what = (f"{n_dates} missing date(s) and {n_values} missing value(s): {rows} of {len(values)} rows "
                f"({rows / len(values):.1%})")
        if rows > max_fill * len(values):
            check = "check the date format (--date-format) and the data, or" if date_col else "check the data or"
            raise UserError(f"--fill {fill} would fill {what}, more than --max-fill {max_fill:.0%}; "
                            f"{check} raise --max-fill")
        notes.append(f"--fill {fill} filled {what}")
        frame = pd.DataFrame(values)
        frame = frame.interpolate(limit_direction="both") if fill == "interpolate" else frame.ffill().bfill()
        values = frame.to_numpy(float)
        if np.isnan(values).any():
            raise UserError(f"column {columns[int(np.flatnonzero(np.isnan(values).any(0))[0])]!r} has no values at all")
    if not np.isfinite(values).all():
        raise UserError(f"infinite values in the CSV on line(s) {csv_lines(~np.isfinite(values).all(1))}")
    return Series(path.name, columns, values, None if dates is None else dates.values, freq, date_col,
                  date_format if date_col else "", df.attrs.get("sep", ","), notes)


def report(series: Series) -> None:
    """Print what reading decided on its own (detected date order, filled rows) on stderr, once per run."""
    import os
    import sys

    if os.environ.get("RANK", "0") == "0":
        for note in series.notes:
            print(note, file=sys.stderr)


# --------------------------------------------------------------------------- splits and windows

@dataclass
class Splits:
    """Target rows of each part: a window predicting rows t..t+H-1 belongs to the part holding
    them and reads rows t-W..t-1, which may lie in an earlier part (that is the known past)."""

    train: range
    val: range
    test: range


def split(n: int, window: int, horizon: int, val_frac: float = 0.15, test_frac: float = 0.15) -> Splits:
    """Chronological train / validation / test parts of n rows, each with at least one window."""
    def parts(m):
        n_val, n_test = round(m * val_frac), round(m * test_frac)
        return m - n_val - n_test, n_val, n_test

    def fits(m):
        tr, va, te = parts(m)
        return tr >= window + horizon and va >= horizon and te >= horizon

    if not fits(n):
        # search up from a closed-form lower bound (counting from n hangs for --window 1000000000)
        lo = max(n + 1, int(max((window + horizon) / max(1e-9, 1 - val_frac - test_frac),
                                horizon / max(val_frac, 1e-9), horizon / max(test_frac, 1e-9))) - 3)
        need = next(m for m in range(lo, lo + 100 * (window + 3 * horizon) + 1000) if fits(m))
        raise UserError(f"the series has {n} rows, too short for --window {window} + --horizon {horizon} with "
                        f"{val_frac:.0%} validation and {test_frac:.0%} test parts: at least {need} rows are needed "
                        "(use a smaller --window)")
    tr, va, _ = parts(n)
    return Splits(range(0, tr), range(tr, tr + va), range(tr + va, n))


def window_starts(part: range, window: int, horizon: int) -> torch.Tensor:
    """First target row t of every window whose H targets all lie in `part` and whose W inputs
    exist: t in [max(start, W), stop - H], both ends included (the last window is kept)."""
    first = max(part.start, window)
    return torch.arange(first, max(first, part.stop - horizon + 1))    # empty, not an error, when none fit


def windows(values: torch.Tensor, window: int, horizon: int, starts: torch.Tensor):
    """values (N, F), target in column 0 -> inputs X (M, W, F) = rows t-W..t-1 and targets
    Y (M, H) = column 0 of rows t..t+H-1, for each t in starts (M,)."""
    view_x = values.unfold(0, window, 1)          # (N-W+1, F, W): row i holds rows i..i+W-1
    view_y = values[:, 0].unfold(0, horizon, 1)   # (N-H+1, H)
    return view_x[starts - window].transpose(1, 2), view_y[starts]


class MinMaxScaler:
    """Per-column (x - lo) / (hi - lo) to [0, 1], fitted on the rows it is given (train only)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)
        span = self.hi - self.lo
        self.span = np.where(span > 0, span, 1.0)   # a constant column maps to 0, not to NaN

    @classmethod
    def fit(cls, values: np.ndarray) -> "MinMaxScaler":
        return cls(values.min(axis=0), values.max(axis=0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.lo) / self.span

    def inverse(self, scaled, column: int = 0):
        """Scaled values of one column (any shape) back to original units."""
        return scaled * float(self.span[column]) + float(self.lo[column])

    def to_dict(self) -> dict:
        return {"lo": [float(v) for v in self.lo], "hi": [float(v) for v in self.hi]}

    @classmethod
    def from_dict(cls, d: dict) -> "MinMaxScaler":
        return cls(d["lo"], d["hi"])
