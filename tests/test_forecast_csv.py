"""Reading a user's CSV (issue 26): day-first / month-first dates detected or given (--date-format),
ambiguous and inconsistent dates refused, the delimiter sniffed or given (--sep), --fill saying what it
filled and refusing more than --max-fill; the checkpoint reads new CSVs the way training read its own."""
import numpy as np
import pandas as pd
import pytest
import torch

import ganforge
from ganforge.cli import main
from ganforge.data import series as S
from ganforge.errors import UserError

FLAGS = ["--column", "y", "--window", "6", "--hidden", "4", "--epochs", "1", "--batch-size", "16", "--no-progress"]


def frame(n=40, start="2021-01-01", fmt="%d/%m/%Y", freq="D"):
    t = np.arange(n)
    return pd.DataFrame({"day": pd.date_range(start, periods=n, freq=freq).strftime(fmt),
                         "y": np.sin(t / 3) + 0.1 * t, "x": t % 5})


def dates_of(s: S.Series) -> list[str]:
    return [str(d)[:10] for d in s.dates]


# --------------------------------------------------------------------------- dates

def test_day_first_dates_are_detected_and_read_in_order(tmp_path):
    df = frame()                                                   # 01/01/2021 .. 09/02/2021
    df.to_csv(tmp_path / "a.csv", index=False)
    s = S.read_series(tmp_path / "a.csv", "y", date_format="")
    assert s.date_format == "dayfirst" and s.freq == "D"
    assert dates_of(s)[:3] == ["2021-01-01", "2021-01-02", "2021-01-03"] and dates_of(s)[-1] == "2021-02-09"
    np.testing.assert_allclose(s.target, df.y)                     # no row moved
    assert "day first" in s.notes[0] and "line 14 '13/01/2021'" in s.notes[0]
    # today's per-date guess (kept for old checkpoints) reads 02/01/2021 as 1 February: rows scrambled
    old = S.read_series(tmp_path / "a.csv", "y", date_format="mixed", fill="interpolate")
    assert not np.allclose(old.target[:len(df)], df.y)


@pytest.mark.parametrize("fmt,written", [("dayfirst", "%d/%m/%Y"), ("monthfirst", "%m/%d/%Y"),
                                         ("%d.%m.%y", "%d.%m.%y"), ("", "%Y-%m-%d"), ("dayfirst", "%Y-%m-%d")])
def test_each_date_format_reads_its_own_dates(tmp_path, fmt, written):
    frame(n=10, fmt=written).to_csv(tmp_path / "a.csv", index=False)   # days 1-10 only: ambiguous without a format
    s = S.read_series(tmp_path / "a.csv", "y", date_format=fmt)
    assert dates_of(s) == [f"2021-01-{d:02d}" for d in range(1, 11)]


def test_ambiguous_dates_are_refused_with_the_flag(tmp_path):
    frame(n=24, freq="MS").to_csv(tmp_path / "a.csv", index=False)     # 01/01/2021, 01/02/2021, ...: monthly
    with pytest.raises(UserError, match=r"ambiguous dates.*line 3 '01/02/2021' is 2021-02-01 or 2021-01-02; "
                                        r"pass --date-format dayfirst or --date-format monthfirst"):
        S.read_series(tmp_path / "a.csv", "y", date_format="")
    assert S.read_series(tmp_path / "a.csv", "y", date_format="dayfirst").freq == "MS"


def test_inconsistent_dates_are_refused_naming_a_row_of_each(tmp_path):
    df = frame(n=60)
    df.loc[45:, "day"] = pd.date_range("2021-02-15", periods=15).strftime("%m/%d/%Y")   # the tail month first
    df.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(UserError, match=r"inconsistent dates: line 14 '13/01/2021' can only be day first, "
                                        r"line 47 '02/15/2021' only month first"):
        S.read_series(tmp_path / "a.csv", "y", date_format="")
    with pytest.raises(UserError, match=r"line 47 '02/15/2021' is not a day-first date \(--date-format dayfirst\)"):
        S.read_series(tmp_path / "a.csv", "y", date_format="dayfirst")
    with pytest.raises(UserError, match=r"unparseable .* with --date-format %d/%m/%Y on line\(s\) 47, 48"):
        S.read_series(tmp_path / "a.csv", "y", date_format="%d/%m/%Y")


# --------------------------------------------------------------------------- --fill and --max-fill

def test_fill_reports_dates_and_values_and_refuses_beyond_max_fill(tmp_path):
    df = frame(n=100, fmt="%Y-%m-%d").drop(index=[10, 11, 50])
    df.loc[20, "y"] = np.nan
    df.to_csv(tmp_path / "a.csv", index=False)
    s = S.read_series(tmp_path / "a.csv", "y", fill="interpolate", max_fill=0.05)
    assert len(s) == 100 and s.notes == ["--fill interpolate filled 3 missing date(s) and 1 missing value(s): "
                                         "4 of 100 rows (4.0%)"]
    with pytest.raises(UserError, match=r"--fill ffill would fill 3 missing date\(s\) and 1 missing value\(s\): 4 of "
                                        r"100 rows \(4.0%\), more than --max-fill 3%; check the date format"):
        S.read_series(tmp_path / "a.csv", "y", fill="ffill", max_fill=0.03)
    with pytest.raises(UserError, match=r"3 missing date\(s\).*: 3% of the dates, more than --max-fill 2%"):
        S.read_series(tmp_path / "a.csv", "y", max_fill=0.02)


# --------------------------------------------------------------------------- delimiters

@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_delimiter_is_sniffed_or_given(tmp_path, sep):
    frame(n=20).to_csv(tmp_path / "a.csv", index=False, sep=sep)
    s = S.read_series(tmp_path / "a.csv", "y", features=["x"], sep="", date_format="")
    assert s.sep == sep and s.columns == ["y", "x"] and len(s) == 20
    given = {"\t": "tab"}.get(sep, sep)
    assert S.read_series(tmp_path / "a.csv", "y", sep=given, date_format="").sep == sep
    with pytest.raises(UserError, match=r"column 'y' is not in a.csv.*pass --sep"):
        S.read_series(tmp_path / "a.csv", "y", sep=",")


def test_decimal_commas_with_semicolons(tmp_path):
    (tmp_path / "a.csv").write_text("day;y;x\n" + "".join(f"2021-01-{d:02d};{d},5;{d}.25\n" for d in range(1, 21)))
    assert S.sniff_sep(tmp_path / "a.csv") == ";"
    s = S.read_series(tmp_path / "a.csv", "y", features=["x"], sep="", date_format="")
    np.testing.assert_allclose(s.values[:2], [[1.5, 1.25], [2.5, 2.25]])   # decimal commas, and points still


# --------------------------------------------------------------------------- the checkpoint reads alike

def test_the_checkpoint_reads_new_csvs_as_training_did(tmp_path, capsys):
    frame(n=120).to_csv(tmp_path / "train.csv", index=False, sep=";")   # day-first, semicolons
    assert main(["train", "forecaster", "--csv", str(tmp_path / "train.csv"), *FLAGS, "--threads", "1",
                 "--out", str(tmp_path / "runs")]) == 0
    assert "dates read day first" in capsys.readouterr().err
    model = ganforge.load(tmp_path / "runs" / "forecaster-0001")
    assert model.config.date_format == "dayfirst" and model.config.sep == ""
    # a new file whose dates alone are ambiguous (1-10 March): read day first, as in training
    frame(n=10, start="2021-03-01").to_csv(tmp_path / "new.csv", index=False, sep=";")
    with pytest.raises(UserError, match="ambiguous"):
        S.read_series(tmp_path / "new.csv", "y", date_format="", sep="")
    assert main(["forecast", str(tmp_path / "runs" / "forecaster-0001"), "--csv", str(tmp_path / "new.csv"),
                 "-o", str(tmp_path / "f.csv"), "--threads", "1"]) == 0
    assert pd.read_csv(tmp_path / "f.csv")["day"].tolist() == ["2021-03-11"]


def test_old_checkpoints_keep_the_old_reading(tmp_path):
    """A checkpoint from before --date-format, --sep and --max-fill: mixed dates, commas, no fill limit."""
    frame(n=120, fmt="%Y-%m-%d").to_csv(tmp_path / "train.csv", index=False)
    run = ganforge.train("forecaster", csv=str(tmp_path / "train.csv"), column="y", window=6, hidden="4", epochs=1,
                         batch_size=16, progress=False, out=str(tmp_path / "runs"))
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    for key in ("date_format", "sep", "max_fill"):
        ckpt["config"].pop(key)
    torch.save(ckpt, tmp_path / "old.pt")
    model = ganforge.load(tmp_path / "old.pt")
    assert (model.config.date_format, model.config.sep, model.config.max_fill) == ("mixed", ",", 1.0)
    frame(n=10).to_csv(tmp_path / "days.csv", index=False)   # 01/01/2021 .. 10/01/2021: ambiguous, read as before
    s = model.read(tmp_path / "days.csv")
    assert s.date_format == "mixed" and s.freq == "MS" and dates_of(s)[:2] == ["2021-01-01", "2021-02-01"]


# --------------------------------------------------------------------------- backtest folds

def test_backtest_refuses_folds_of_a_row_before_training(tmp_path, capsys):
    from ganforge.tasks.backtest import fold_parts

    with pytest.raises(UserError, match=r"--folds 1000 leaves 1 test row\(s\) per fold .* use at most 73 --folds"):
        fold_parts(1461, 1000, window=100, horizon=1, val_frac=0.15, test_frac=0.15)   # the Seattle weather
    assert len(fold_parts(1461, 73, window=100, horizon=1, val_frac=0.15, test_frac=0.15)) == 73
    frame(n=160, fmt="%Y-%m-%d").to_csv(tmp_path / "s.csv", index=False)
    assert main(["backtest", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--window", "6", "--folds", "100",
                 "--out", str(tmp_path / "runs")]) == 2
    assert "--folds 100 leaves 1 test row(s)" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()                        # nothing started
