"""Forecasting II: Diebold-Mariano significance, climatology baselines, rolling-origin backtests,
split-conformal intervals, calendar covariates and the LSTM cell."""
import json
import math

import numpy as np
import pandas as pd
import pytest

import ganforge
from ganforge import config as C
from ganforge.cli import main
from ganforge.config.forecaster import parse_levels
from ganforge.data import calendar as CAL
from ganforge.data import series as S
from ganforge.errors import UserError
from ganforge.metrics import significance as G
from ganforge.metrics.climatology import climatology
from ganforge.tasks import backtest as B


def write_csv(path, n=200, period=8, noise=0.0, seed=0, start="2020-01-01"):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    y = 10 + 5 * np.sin(2 * np.pi * t / period) + noise * rng.standard_normal(n)
    pd.DataFrame({"day": pd.date_range(start, periods=n, freq="D").strftime("%Y-%m-%d"), "y": y}).to_csv(path, index=False)
    return y


# --------------------------------------------------------------------------- Diebold-Mariano

def test_dm_statistic_by_hand():
    e_model = np.array([1.0, -1.0, 2.0, 1.0, -1.0, 1.0])
    e_base = np.array([2.0, 1.8, -2.4, 1.5, -1.8, 1.2])
    # squared-error loss differential, by hand: 1-4, 1-3.24, 4-5.76, 1-2.25, 1-3.24, 1-1.44
    d = [-3.0, -2.24, -1.76, -1.25, -2.24, -0.44]
    n, h = 6, 2
    mean = sum(d) / n                                          # -1.8217
    c = [x - mean for x in d]
    g0 = sum(x * x for x in c) / n
    g1 = sum(c[i] * c[i - 1] for i in range(1, n)) / n
    dm = mean / math.sqrt((g0 + 2 * g1) / n)
    hln = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    r = G.dm_test(e_model, e_base, horizon=h, power=2)
    assert r["mean_diff"] == pytest.approx(mean) and r["stat"] == pytest.approx(hln)
    assert 0 < r["p"] < 0.5                                    # the model's losses are lower
    # absolute loss, horizon 1: no autocovariance terms
    d1 = np.abs(e_model) - np.abs(e_base)
    stat1 = d1.mean() / math.sqrt(d1.var() / n) * math.sqrt((n - 1) / n)
    assert G.dm_test(e_model, e_base, 1, 1)["stat"] == pytest.approx(stat1)
    # (M, H) errors: a window's loss is its mean over the horizon
    two = G.dm_test(np.stack([e_model, e_model], 1), np.stack([e_base, e_base], 1), h, 2)
    assert two["stat"] == pytest.approx(hln)
    assert G.dm_test(e_model, e_model)["p"] == 0.5             # identical forecasts: no evidence


def test_t_distribution_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for t, df in [(-2.1, 5), (1.3, 300), (-0.2, 1000), (3.0, 2), (-6.0, 40)]:
        assert G.t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), rel=1e-9, abs=1e-14)


def test_verdict_wording():
    tests = {"naive": {"p_abs": 0.01, "p_sq": 0.02}, "window mean": {"p_abs": 0.2, "p_sq": 0.01}}
    v = G.verdict(tests, 0.05)
    assert "better than naive (p = 0.01" in v and "not significantly better than window mean (p = 0.2" in v
    assert "better than naive" not in G.verdict(tests, 0.005).replace("not significantly better than naive", "")


# --------------------------------------------------------------------------- conformal intervals

def test_conformal_bounds_cover_the_right_share():
    rng = np.random.default_rng(0)
    cal = rng.normal(0, 2.0, size=(2000, 2))            # known noise: sd 2
    q = G.conformal_quantiles(cal, [0.8, 0.95])
    assert q["0.8"][0] == pytest.approx(2 * 1.2816, rel=0.06) and q["0.95"][1] == pytest.approx(2 * 1.96, rel=0.06)
    y = rng.normal(0, 2.0, size=(20000, 2))
    assert G.coverage(y, np.zeros_like(y), q["0.8"]) == pytest.approx(0.8, abs=0.015)
    assert G.coverage(y, np.zeros_like(y), q["0.95"]) == pytest.approx(0.95, abs=0.01)
    assert G.conformal_quantiles(cal[:5], [0.95])["0.95"][0] == math.inf      # too few points for 95 %
    with pytest.raises(ValueError, match="outside"):
        parse_levels("0.8,1.2")


# --------------------------------------------------------------------------- baselines and calendar

def test_climatology_by_hand():
    dates = pd.date_range("2019-01-01", periods=4 * 365 + 1, freq="D").values
    t = np.arange(len(dates))
    doy = pd.DatetimeIndex(dates).day_of_year.to_numpy()
    target = np.sin(2 * np.pi * doy / 365) * 10 + 0.01 * (t % 2)
    train_stop = 3 * 365
    out = climatology(target, train_stop, np.array([train_stop + 10]), 2, dates, "D")
    assert out["train mean"][0, 0] == pytest.approx(target[:train_stop].mean())
    idx = pd.DatetimeIndex(dates)
    same_day = np.flatnonzero((idx.month == 1) & (idx.day == idx[train_stop + 10].day))[:3]     # 3 training years
    assert idx[train_stop + 10].month == 1 and len(same_day) == 3 and same_day[-1] < train_stop
    assert out["seasonal mean"][0, 0] == pytest.approx(target[same_day].mean())
    noise = np.random.default_rng(0).standard_normal(len(dates))
    assert list(climatology(noise, train_stop, np.array([train_stop]), 1, dates, "D")) == ["train mean"]


def test_calendar_features_describe_the_forecast_date():
    dates = pd.date_range("2024-01-01", periods=3, freq="D").values     # a Monday
    f = CAL.features(dates, "D", horizon=2)                               # -> Wednesday 3 January ...
    assert f[0, 0] == pytest.approx(math.sin(2 * math.pi * 2 / 7))
    assert f[0, 2] == pytest.approx(math.sin(2 * math.pi * 2 / 365.25))


# --------------------------------------------------------------------------- training and the CLI

def test_train_report_has_p_values_intervals_and_forecast_bounds(tmp_path, capsys):
    write_csv(tmp_path / "s.csv", n=160, noise=0.3)
    rc = main(["train", "forecaster", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--window", "10",
               "--horizon", "2", "--epochs", "2", "--hidden", "6", "--intervals", "0.8,0.95", "--calendar",
               "--no-progress", "--out", str(tmp_path / "runs")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "p(|e|)" in out and "Diebold-Mariano" in out and "train mean" in out and "80% nominal ->" in out
    run = sorted((tmp_path / "runs").glob("forecaster-*"))[-1]
    m = json.loads((run / "test_metrics.json").read_text())
    assert set(m["coverage"]) == {"0.8", "0.95"} and set(m["dm_tests"]["naive"]) >= {"p_abs", "p_sq"}
    assert main(["forecast", str(run), "-o", str(tmp_path / "f.csv"), "--plot", str(tmp_path / "f.png")]) == 0
    f = pd.read_csv(tmp_path / "f.csv")
    assert f.columns.tolist() == ["day", "y", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (f.lower_95 <= f.lower_80).all() and (f.lower_80 < f.y).all() and (f.y < f.upper_80).all()
    assert (f.upper_80 <= f.upper_95).all()


def test_lstm_cell_trains_and_reports_as_lstm(tmp_path):
    write_csv(tmp_path / "s.csv", n=120)
    run = ganforge.train("forecaster", csv=str(tmp_path / "s.csv"), column="y", window=8, hidden="5",
                         epochs=1, batch_size=16, cell="lstm", progress=False, out=str(tmp_path / "runs"))
    m = json.loads((run / "test_metrics.json").read_text())
    assert "LSTM" in m and "the LSTM is" in m["verdict"]
    assert len(ganforge.load(run / "best.pt").forecast(str(tmp_path / "s.csv"))) == 1


def test_gru_on_noise_is_not_significantly_better(tmp_path):
    rng = np.random.default_rng(42)
    pd.DataFrame({"Date": pd.date_range("2020-01-01", periods=300).strftime("%Y-%m-%d"),
                  "T": 25 + 5 * rng.standard_normal(300)}).to_csv(tmp_path / "d.csv", index=False)
    run = ganforge.train("forecaster", csv=str(tmp_path / "d.csv"), column="T", window=10, hidden="6",
                         epochs=2, batch_size=16, progress=False, out=str(tmp_path / "runs"))
    verdict = json.loads((run / "test_metrics.json").read_text())["verdict"]
    assert "not significantly better than window mean" in verdict
    assert "not significantly better than train mean" in verdict


# --------------------------------------------------------------------------- backtest

def test_fold_parts_expand_and_never_overlap():
    parts = B.fold_parts(200, 4, window=10, horizon=2, val_frac=0.1, test_frac=0.2)
    assert [p.test for p in parts] == [range(160, 170), range(170, 180), range(180, 190), range(190, 200)]
    for p in parts:
        assert p.train.stop == p.val.start and p.val.stop == p.test.start and len(p.val) == 20
    assert parts[0].train == range(0, 140) and parts[-1].train == range(0, 170)
    with pytest.raises(UserError, match="at most 4 fold"):
        B.fold_parts(100, 5, window=30, horizon=1, val_frac=0.15, test_frac=0.6)


def test_folds_never_see_their_test_rows(tmp_path):
    """Change every row of the last fold's test block: nothing of the earlier folds changes, nor the
    last fold's scaler and model (only its scores, which read the changed actual values)."""
    y = write_csv(tmp_path / "a.csv", n=150, noise=0.2)
    df = pd.read_csv(tmp_path / "a.csv")
    df.loc[135:, "y"] = 1e4                       # the last fold's test block (rows 135..149)
    df.to_csv(tmp_path / "b.csv", index=False)
    kw = dict(column="y", window=8, hidden="4", epochs=1, batch_size=16, progress=False, val_frac=0.1,
              test_frac=0.3, out=str(tmp_path / "runs"), intervals="0.8")
    res = {}
    for name in ("a", "b"):
        cfg = C.resolve(C.TASKS["forecaster"], csv=str(tmp_path / f"{name}.csv"), **kw)
        res[name] = B.run_backtest(cfg, folds=3, retrain=True)[1]["per_fold"]
    for k in range(3):
        fa, fb = res["a"][k], res["b"][k]
        if k < 2:
            np.testing.assert_array_equal(fa["forecasts"]["GRU"], fb["forecasts"]["GRU"])
        else:   # the first test window reads only rows before the block: same forecast
            assert fa["forecasts"]["GRU"][0, 0] == fb["forecasts"]["GRU"][0, 0]
        # same calibration; the default (adaptive) widths of later windows of the changed block may
        # follow the changed actual values already observed, so there only the first window counts
        n = None if k < 2 else 1
        np.testing.assert_allclose(fa["bounds"]["GRU"]["0.8"][1][:n] - fa["forecasts"]["GRU"][:n],
                                   fb["bounds"]["GRU"]["0.8"][1][:n] - fb["forecasts"]["GRU"][:n], atol=1e-9)
    assert np.abs(y[135:]).max() < 100
    # and the objective of a fold holds no row past its test block; its scaler saw training rows only
    cfg = C.resolve(C.TASKS["forecaster"], csv=str(tmp_path / "b.csv"), **kw)
    series = S.read_series(str(tmp_path / "b.csv"), "y")
    p = B.fold_parts(len(series), 3, 8, 1, 0.1, 0.3)[1]
    obj = B.FoldObjective(cfg, series=B.cut(series, p.test.stop), parts=p)
    poisoned = B.cut(series, p.test.stop)
    poisoned.values[p.train.stop:] = -1e4           # validation and test rows: the scaler must not care
    other = B.FoldObjective(cfg, series=poisoned, parts=p)
    assert len(obj.data) == p.test.stop
    np.testing.assert_array_equal(obj.scaler.lo, other.scaler.lo)
    np.testing.assert_array_equal(obj.scaler.hi, other.scaler.hi)
    assert int(obj.starts["train"].max()) + cfg.horizon <= p.train.stop


def test_backtest_cli_table_and_plot(tmp_path, capsys):
    write_csv(tmp_path / "s.csv", n=140, noise=0.2)
    rc = main(["backtest", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--folds", "2", "--window", "8",
               "--hidden", "4", "--epochs", "1", "--no-retrain", "--cells", "ganforge,lstm", "--no-progress",
               "--out", str(tmp_path / "runs")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "rolling-origin backtest: 2 folds" in out and "p LSTM |e|" in out and "the LSTM is" in out
    d = sorted((tmp_path / "runs").glob("backtest-*"))[-1]
    j = json.loads((d / "backtest.json").read_text())
    assert len(j["folds"]) == 2 and {"GRU", "LSTM", "naive", "train mean"} <= set(j["mean"])
    assert (d / "backtest.png").stat().st_size > 0


@pytest.mark.parametrize("argv,match", [
    (["backtest", "--csv", "nodates.csv", "--column", "v", "--window", "5", "--folds", "60"],
     "leaves 1 test row.*at most 3 --folds"),
    (["backtest", "--csv", "nodates.csv", "--column", "v", "--window", "5", "--folds", "3", "--fold-size", "20"],
     "the series has 60: at most 2 fold"),
    (["train", "forecaster", "--intervals", "0.8,1.5"], "--intervals must be levels in \\(0, 1\\)"),
    (["train", "forecaster", "--intervals", "0"], "outside \\(0, 1\\)"),
    (["train", "forecaster", "--csv", "nodates.csv", "--column", "v", "--window", "5", "--calendar"],
     "--calendar needs dates"),
])
def test_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, match):
    import re

    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"v": np.arange(60.0)}).to_csv("nodates.csv", index=False)
    assert main([*argv, "--no-progress", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and re.search(match, err), err


def test_split_conformal_rank_is_exact_where_the_product_rounds_up():
    """(M+1) * a = 100 * 0.55 is 55.00000000000001 in floating point: the 55th smallest, not the 56th."""
    cal = np.arange(1.0, 100.0)[:, None]          # |residuals| 1 .. 99, M = 99
    assert G.conformal_quantiles(cal, [0.55])["0.55"] == [55.0]
