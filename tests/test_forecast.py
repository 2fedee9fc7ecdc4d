"""Forecasting: CSV checks, splits and windows, the train-only scaler, metrics and baselines,
a GRU that learns a periodic series, and the CLI from CSV to forecast.csv."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

import ganforge
from ganforge import config as C
from ganforge.api import forecast
from ganforge.cli import main
from ganforge.data import series as S
from ganforge.errors import UserError
from ganforge.metrics import forecast as M


def write_csv(path, n=200, start="2020-01-01", period=8, **extra):
    t = np.arange(n)
    df = pd.DataFrame({"day": pd.date_range(start, periods=n, freq="D").strftime("%Y-%m-%d"),
                       "y": 10 + 5 * np.sin(2 * np.pi * t / period), "x": t % 3, **extra})
    df.to_csv(path, index=False)
    return df


# --------------------------------------------------------------------------- reading and checks

def test_read_series_sorts_and_detects_dates(tmp_path):
    df = write_csv(tmp_path / "a.csv", n=30)
    df.iloc[::-1].to_csv(tmp_path / "rev.csv", index=False)      # unsorted rows
    s = S.read_series(tmp_path / "rev.csv", "y", features=["x"])
    assert s.columns == ["y", "x"] and s.date_column == "day" and s.freq == "D"
    np.testing.assert_allclose(s.values[:, 0], df["y"].to_numpy())
    assert str(s.dates[0])[:10] == "2020-01-01"


def test_embedded_default():
    s = S.read_series()
    assert s.columns == ["temp_max"] and len(s) == 1461 and s.freq == "D"


@pytest.mark.parametrize("edit,kw,match", [
    (lambda d: d, dict(column="nope"), r"'nope' is not in .*columns: day, y, x"),
    (lambda d: d.assign(y=d.y.astype(object).where(d.index != 4, "abc")), {}, r"non-numeric values on line\(s\) 6"),
    (lambda d: d.assign(day=d.day.where(d.index != 2, "someday")), {}, r"unparseable .* line\(s\) 4"),
    (lambda d: d.assign(day=d.day.where(d.index != 3, d.day[2])), {}, r"duplicate dates \(2020-01-03\)"),
    (lambda d: d.drop(index=[5, 6]), {}, r"irregular spacing: 2 missing date.*--fill"),
    (lambda d: d.assign(day=d.day.where(d.index != 5, "2020-01-06 12:00")), {}, r"not a multiple"),
    (lambda d: d.assign(y=d.y.where(d.index != 7)), {}, r"'y' has missing values on line\(s\) 9.*--fill"),
])
def test_bad_csv_messages(tmp_path, edit, kw, match):
    edit(write_csv(tmp_path / "a.csv", n=20)).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(UserError, match=match):
        S.read_series(tmp_path / "b.csv", **{"column": "y", **kw})


@pytest.mark.parametrize("fill,expected", [("interpolate", 10.5), ("ffill", 10.0)])
def test_fill_missing_values_and_dates(tmp_path, fill, expected):
    df = pd.DataFrame({"date": ["2021-01-01", "2021-01-02", "2021-01-04", "2021-01-05"], "v": [9.0, 10.0, 11.0, 12.0]})
    df.to_csv(tmp_path / "g.csv", index=False)
    s = S.read_series(tmp_path / "g.csv", "v", fill=fill)          # the missing 3 January becomes a row
    assert len(s) == 5 and s.values[2, 0] == pytest.approx(expected)
    df.assign(date=pd.date_range("2021-01-01", periods=4), v=[9.0, None, 11.0, 12.0]).to_csv(tmp_path / "h.csv",
                                                                                         index=False)
    with pytest.raises(UserError, match="missing values"):
        S.read_series(tmp_path / "h.csv", "v")


# --------------------------------------------------------------------------- splits, windows, scaler

def test_windows_keep_the_last_one():
    values = torch.arange(10.0)[:, None]
    starts = S.window_starts(range(0, 10), window=3, horizon=1)
    assert starts.tolist() == list(range(3, 10))      # N - W windows; the article makes N - W - 1
    X, Y = S.windows(values, 3, 1, starts)
    assert X.shape == (7, 3, 1) and Y.shape == (7, 1)
    assert X[0, :, 0].tolist() == [0, 1, 2] and Y[0].tolist() == [3]
    assert X[-1, :, 0].tolist() == [6, 7, 8] and Y[-1].tolist() == [9]
    starts = S.window_starts(range(0, 10), window=3, horizon=2)
    X, Y = S.windows(values, 3, 2, starts)
    assert len(starts) == 6 and Y[-1].tolist() == [8, 9] and X[-1, :, 0].tolist() == [5, 6, 7]


def test_split_targets_and_short_series():
    parts = S.split(100, window=10, horizon=2, val_frac=0.2, test_frac=0.1)
    assert (parts.train, parts.val, parts.test) == (range(0, 70), range(70, 90), range(90, 100))
    val = S.window_starts(parts.val, 10, 2)
    assert val[0] == 70 and val[-1] == 88           # inputs may reach back into train; targets may not leave val
    with pytest.raises(UserError, match=r"has 20 rows.*at least (\d+) rows") as e:
        S.split(20, window=30, horizon=1)
    need = int(e.value.args[0].split("at least ")[1].split()[0])
    S.split(need, window=30, horizon=1)              # the stated minimum really is enough
    with pytest.raises(UserError):
        S.split(need - 1, window=30, horizon=1)


def test_scaler_sees_training_rows_only(tmp_path):
    df = write_csv(tmp_path / "a.csv", n=200)
    df.loc[170:, "y"] = 1000.0                        # a huge test period
    df.to_csv(tmp_path / "b.csv", index=False)
    cfg = C.resolve(C.TASKS["forecaster"], csv=str(tmp_path / "b.csv"), column="y",
                                  window=10, hidden="4", normalize="global", difference=0, progress=False)
    from ganforge.tasks.forecaster import ForecasterObjective

    obj = ForecasterObjective(cfg)
    train_rows = obj.parts.train
    assert obj.scaler.hi[0] == pytest.approx(df.y[:train_rows.stop].max())
    assert obj.scaler.hi[0] < 20
    assert obj.data[:train_rows.stop].min() >= 0 and obj.data[:train_rows.stop].max() <= 1
    assert obj.data[-1, 0] > 10                      # test values scale far outside [0, 1]: no leakage


# --------------------------------------------------------------------------- metrics and baselines

def test_metrics_by_hand():
    y, p = np.array([1.0, 2.0]), np.array([2.0, 2.0])
    s = M.scores(y, p, M.mase_scale(np.array([0.0, 2.0, 4.0])))
    assert s["mae"] == pytest.approx(0.5) and s["rmse"] == pytest.approx(np.sqrt(0.5))
    assert s["smape"] == pytest.approx(100 * (2 / 3) / 2) and s["mase"] == pytest.approx(0.25)
    assert M.smape(np.zeros(2), np.zeros(2)) == 0.0


def test_baselines_by_hand():
    target = np.arange(1.0, 9.0)                      # 1..8
    starts = np.array([5, 6])
    assert M.naive(target, starts, 2).tolist() == [[5, 5], [6, 6]]
    assert M.seasonal_naive(target, starts, 3, period=2).tolist() == [[4, 5, 4], [5, 6, 5]]
    assert M.window_mean(target, starts, 2, window=2).tolist() == [[4.5, 4.5], [5.5, 5.5]]
    assert M.actual(target, starts, 2).tolist() == [[6, 7], [7, 8]]
    b = M.baselines(target, starts, 1, window=2, period=7)    # not enough history for period 7
    assert list(b) == ["naive", "window mean"]
    lost = M.verdict({"mae": 2, "rmse": 2}, {"naive": {"mae": 1, "rmse": 3}, "mean": {"mae": 3, "rmse": 3}})
    assert "does NOT beat naive on MAE (2 vs 1):" in lost and "RMSE" not in lost and "mean" not in lost
    assert "beats every baseline" in M.verdict({"mae": 1, "rmse": 1}, {"naive": {"mae": 2, "rmse": 2}})


def test_detect_period():
    t = np.arange(400)
    assert M.detect_period(np.sin(2 * np.pi * t / 12)) == 12
    weekly = np.tile([1.0, 1, 1, 1, 1, 5, 6], 60) + 0.1 * np.random.default_rng(0).standard_normal(420)
    assert M.detect_period(weekly, "D") == 7
    assert M.detect_period(np.random.default_rng(1).standard_normal(300)) is None


# --------------------------------------------------------------------------- training and the CLI

def test_gru_beats_the_mean_on_a_periodic_series(tmp_path):
    write_csv(tmp_path / "p.csv", n=240, period=8)
    run = ganforge.train("forecaster", csv=str(tmp_path / "p.csv"), column="y", window=16, hidden="16",
                         epochs=12, batch_size=16, lr=1e-2, patience=0, season=8, progress=False,
                         out=str(tmp_path / "runs"))
    m = json.loads((run / "test_metrics.json").read_text())
    assert m["period"] == 8 and m["seasonal naive (8)"]["mae"] < 1e-6     # exact on a clean periodic series
    assert m["GRU"]["mae"] < 0.5 * m["window mean"]["mae"]
    assert (run / "best.pt").exists() and (run / "losses.png").exists() and (run / "test_forecast.png").exists()


def test_cli_train_then_forecast(tmp_path, capsys, monkeypatch):
    write_csv(tmp_path / "s.csv", n=120)
    rc = main(["train", "forecaster", "--csv", "s.csv", "--column", "y", "--features", "x", "--window", "12",
               "--horizon", "3", "--epochs", "2", "--hidden", "6,5", "--cell", "ganforge", "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "naive" in out and "seasonal naive (7)" in out and "window mean" in out
    run = sorted((tmp_path / "runs").glob("forecaster-*"))[-1]
    assert main(["forecast", str(run), "--horizon", "2", "-o", "f.csv", "--plot", "f.png"]) == 0
    f = pd.read_csv(tmp_path / "f.csv")
    assert f.columns.tolist() == ["day", "y"] and f.day.tolist() == ["2020-04-30", "2020-05-01"]
    assert (tmp_path / "f.png").stat().st_size > 0
    api = forecast(run / "best.pt", str(tmp_path / "s.csv"))
    assert len(api) == 3 and np.isfinite(api.y).all()
    # the model runs on the last 12 rows only: editing an older row changes nothing
    assert abs(api.y[0] - f.y[0]) < 1e-6
    capsys.readouterr()
    assert main(["forecast", str(run), "--horizon", "4"]) == 2
    assert "it predicts 3 step(s)" in capsys.readouterr().err
    pd.read_csv("s.csv").drop(columns="x").to_csv("nox.csv", index=False)
    assert main(["forecast", str(run), "--csv", "nox.csv"]) == 2
    assert "'x' is not in nox.csv; columns: day, y" in capsys.readouterr().err
    (tmp_path / "elsewhere").mkdir()   # the training CSV was given as s.csv: it is still found from elsewhere
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["forecast", str(run), "--horizon", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) >= 3


def test_cli_bad_input_exits_2(tmp_path, capsys):
    write_csv(tmp_path / "s.csv", n=50)
    assert main(["train", "forecaster", "--csv", "s.csv", "--column", "y", "--no-progress"]) == 2
    assert "has 50 rows, too short for --window 100" in capsys.readouterr().err
    assert main(["train", "forecaster", "--csv", "s.csv", "--column", "z", "--window", "5"]) == 2
    assert "columns: day, y, x" in capsys.readouterr().err
    assert main(["train", "forecaster", "--cell", "torch", "--no-reset-after"]) == 2
    assert "--cell ganforge" in capsys.readouterr().err


def test_series_without_dates_forecasts_by_step(tmp_path):
    pd.DataFrame({"v": np.sin(np.arange(90) / 2)}).to_csv(tmp_path / "n.csv", index=False)
    run = ganforge.train("forecaster", csv=str(tmp_path / "n.csv"), column="v", window=8, horizon=2, hidden="4",
                         epochs=1, batch_size=8, progress=False, out=str(tmp_path / "runs"))
    model = ganforge.load(run / "checkpoint.pt")
    table = model.forecast(str(tmp_path / "n.csv"))
    assert table.columns.tolist() == ["step", "v"] and table.step.tolist() == [90, 91]
    assert table.v.between(-1.5, 1.5).all()                     # back in original units
    with pytest.raises(UserError, match="reads the last 8"):
        model.forecast(pd.DataFrame({"v": [0.1, 0.2, 0.3]}))
