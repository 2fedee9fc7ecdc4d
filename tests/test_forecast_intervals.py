"""Prediction intervals (issue 27): the four --interval-method ways, their coverage when the error
scale drifts, the Winkler score by hand, and the interval columns and scores in every report."""
import json

import numpy as np
import pandas as pd
import pytest

import ganforge
from ganforge import config as C
from ganforge.cli import main
from ganforge.metrics import intervals as I
from ganforge.tasks import backtest as B


def drifting(seed: int, n: int = 1200, change: int = 900):
    """A sine plus noise whose sd doubles at row `change`, and the perfect forecast of its signal."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    signal = 10 * np.sin(2 * np.pi * t / 50)
    return signal + np.where(t < change, 1.0, 2.0) * rng.standard_normal(n), signal


@pytest.mark.parametrize("seed", [0, 1])
def test_adaptive_keeps_coverage_when_the_noise_doubles(seed):
    """Calibrated on 200 calm windows, scored on 400 whose second half is twice as noisy."""
    y, signal = drifting(seed)
    cal, test = np.arange(500, 700), np.arange(700, 1100)
    err = (y - signal)[:, None]
    cover = {}
    for method in I.METHODS:
        w = I.half_widths(method, [0.8, 0.95], err[cal], I.local_scale(y, cal, 30), test,
                          I.local_scale(y, test, 30), err[test])
        q = I.quality(y[test][:, None], I.bounds(signal[test][:, None], w))
        cover[method] = {lvl: v["coverage"] for lvl, v in q.items()}
    assert cover["split"]["0.8"] < 0.70 and cover["split"]["0.95"] < 0.86      # split undercovers badly
    for method in ("adaptive", "adaptive-scaled"):
        assert cover[method]["0.8"] > 0.76 and cover[method]["0.95"] > 0.92, (method, cover)


def test_adaptive_uses_only_errors_already_observed():
    """A window's half-width never depends on its own error, nor on a step-h error whose target
    row is not yet observed at its origin (known from origin t + h + 1 on)."""
    rng = np.random.default_rng(3)
    cal, err = rng.standard_normal((50, 2)), rng.standard_normal((40, 2))
    starts = np.arange(100, 140)
    base = I.half_widths("adaptive", [0.8], cal, np.ones(50), starts, np.ones(40), err)["0.8"]
    for i in (0, 17, 39):
        moved = err.copy()
        moved[i:] *= 50                       # huge errors from window i on
        w = I.half_widths("adaptive", [0.8], cal, np.ones(50), starts, np.ones(40), moved)["0.8"]
        np.testing.assert_array_equal(w[:i + 1, 0], base[:i + 1, 0])     # step 1: known at the next origin
        np.testing.assert_array_equal(w[:i + 2, 1], base[:i + 2, 1])     # step 2: one origin later
        if i < 38:
            assert w[i + 2, 1] > base[i + 2, 1] or w[i + 3, 1] > base[i + 3, 1]
    none = I.half_widths("adaptive", [0.8], cal, np.ones(50), starts, np.ones(40), None)["0.8"]
    assert np.all(none == none[0])              # nothing observed: the calibration quantile throughout


def test_winkler_score_by_hand():
    y = np.array([1.0, 5.0, 10.0, -1.0])
    lo, hi = np.zeros(4), np.full(4, 4.0)
    # level 0.8: alpha 0.2, penalty 2 / 0.2 = 10 per unit outside; widths 4
    # -> 4 (inside), 4 + 10 * 1, 4 + 10 * 6, 4 + 10 * 1 = 4, 14, 64, 14 -> mean 24
    assert I.winkler(y, lo, hi, 0.8) == pytest.approx(24.0)
    assert I.winkler(y, lo, hi, 0.95) == pytest.approx((4 + 44 + 244 + 44) / 4)    # penalty 40
    q = I.quality(y, {"0.8": (lo, hi)})["0.8"]
    assert q == {"coverage": 0.25, "width": 4.0, "winkler": pytest.approx(24.0)}


def test_split_conformal_rank_and_local_scale_by_hand():
    s = np.arange(1.0, 10.0)                                  # 9 scores
    assert I.conformal_rank(s, 0.8) == 8.0                    # ceil(10 * 0.8) = 8th smallest
    assert I.conformal_rank(s, 0.95) == np.inf                # ceil(9.5) = 10 > 9
    assert I.conformal_rank(s, 0.95, cap=True) == 9.0
    assert I.conformal_rank(s, -0.1) == 0.0
    target = np.array([0.0, 1.0, 3.0, 6.0, 6.0, 2.0])         # |changes| 1, 2, 3, 0, 4
    np.testing.assert_allclose(I.local_scale(target, [4, 6], 3), [(2 + 3) / 2, (0 + 4) / 2])
    w = I.half_widths("scaled", [0.5], np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 1.0, 1.0]),
                      np.array([0, 1]), np.array([1.0, 3.0]))["0.5"]
    np.testing.assert_allclose(w[:, 0], [2.0, 6.0])           # 2nd smallest score times each scale


def write_csv(path, n=200, change=None, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    sd = np.where(t < (change or n), 0.3, 0.6)
    pd.DataFrame({"day": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                  "y": 10 + 5 * np.sin(2 * np.pi * t / 8) + sd * rng.standard_normal(n)}).to_csv(path, index=False)


def test_train_report_forecast_csv_and_replay(tmp_path, capsys):
    write_csv(tmp_path / "s.csv", n=160)
    rc = main(["train", "forecaster", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--window", "10",
               "--epochs", "2", "--hidden", "6", "--intervals", "0.8,0.95", "--interval-method", "adaptive",
               "--no-progress", "--out", str(tmp_path / "runs")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "prediction intervals (adaptive conformal" in out and "naive: 80% nominal ->" in out
    run = sorted((tmp_path / "runs").glob("forecaster-*"))[-1]
    m = json.loads((run / "test_metrics.json").read_text())
    assert m["interval_method"] == "adaptive" and set(m["intervals"]) == {"GRU", "naive"}
    for name in ("GRU", "naive"):
        assert set(m["intervals"][name]) == {"0.8", "0.95"}
        assert set(m["intervals"][name]["0.8"]) == {"coverage", "width", "winkler"}
        assert m["intervals"][name]["0.95"]["width"] > m["intervals"][name]["0.8"]["width"] > 0
    assert m["coverage"]["0.8"] == m["intervals"]["GRU"]["0.8"]["coverage"]
    assert main(["forecast", str(run), "-o", str(tmp_path / "f.csv")]) == 0
    f = pd.read_csv(tmp_path / "f.csv")
    assert f.columns.tolist() == ["day", "y", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (f.lower_95 < f.lower_80).all() and (f.lower_80 < f.y).all() and (f.upper_80 < f.upper_95).all()
    # the adaptive widths replay the errors made after validation: wild test rows widen them
    model = ganforge.load(run / "best.pt")
    df = pd.read_csv(tmp_path / "s.csv")
    rows = len(df) - int(model.meta["intervals"]["end_row"])
    df.loc[len(df) - rows:len(df) - 3, "y"] += 8 * np.random.default_rng(1).standard_normal(rows - 2)
    wild = model.forecast(df.set_index(pd.DatetimeIndex(df.pop("day"), name="day")))
    assert (wild.upper_80 - wild.y).iloc[0] > 1.5 * (f.upper_80 - f.y).iloc[0]


def test_backtest_json_has_interval_scores_of_every_method(tmp_path):
    write_csv(tmp_path / "s.csv", n=150, change=120)
    cfg = C.resolve(C.TASKS["forecaster"], csv=str(tmp_path / "s.csv"), column="y", window=8, hidden="4", epochs=1,
                    batch_size=16, progress=False, val_frac=0.1, test_frac=0.3, intervals="0.8,0.95",
                    interval_method="scaled", out=str(tmp_path / "runs"))
    path, res = B.run_backtest(cfg, folds=2, methods=I.METHODS)
    j = json.loads((path / "backtest.json").read_text())
    assert j["interval_method"] == "scaled" and set(j["intervals"]) == {"GRU", "naive"}
    assert set(j["intervals_by_method"]) == set(I.METHODS)
    assert j["intervals_by_method"]["scaled"] == j["intervals"]
    assert all(set(f["intervals"]["GRU"]) == {"0.8", "0.95"} for f in j["folds"])
    q = j["intervals"]["GRU"]["0.8"]
    assert 0 <= q["coverage"] <= 1 and q["winkler"] >= q["width"] > 0
    assert (path / "backtest.png").stat().st_size > 0
