"""Forecasting on trending series: per-window normalisation (window, RevIN) and differencing.

They invert exactly, see no statistic of a later row, forecast the same numbers at training and
at forecast time, keep old (global-scaler) checkpoints working, and let the GRU beat the naive
forecast on a trend and on a random walk with drift where the global scaler cannot."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import ganforge
from ganforge import config as C
from ganforge.cli import main
from ganforge.data.transforms import Differencer
from ganforge.errors import UserError
from ganforge.models.forecaster import GRUForecaster
from ganforge.nn.revin import RevIN
from ganforge.tasks.forecaster import ForecasterObjective

DATA = Path(__file__).parent / "data"


def write_csv(path, y, **extra):
    pd.DataFrame({"day": pd.date_range("2020-01-01", periods=len(y), freq="D").strftime("%Y-%m-%d"),
                  "y": y, **extra}).to_csv(path, index=False)


# --------------------------------------------------------------------------- the transforms alone

@pytest.mark.parametrize("affine", [False, True])
def test_window_normalisation_inverts_exactly(affine):
    torch.manual_seed(0)
    norm = RevIN(3, affine=affine).double()
    if affine:      # a trained, not an identity, affine
        torch.nn.init.uniform_(norm.weight, 0.5, 2.0)
        torch.nn.init.normal_(norm.bias)
    x = torch.randn(5, 12, 3, dtype=torch.float64) * 40 + 1000
    x[1] = 7.0                                  # a constant window: std 0 must not break the inverse
    xn, stats = norm.normalize(x)
    if not affine:
        assert torch.allclose(xn[0].mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-9)
        assert torch.allclose(xn[0].std(0, unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-6)
    for f in range(3):   # restoring feature f of all W rows (as if they were a forecast) gives the input back
        torch.testing.assert_close(norm.restore(xn[..., f], stats, f), x[..., f], rtol=1e-9, atol=1e-9)


def test_model_follows_a_level_it_never_saw():
    """A window-normalised network gives the same forecast, shifted, for a shifted window."""
    torch.manual_seed(0)
    x = torch.rand(4, 10, 2)
    for norm in ("window", "revin"):
        net = GRUForecaster(2, horizon=3, hidden=(5,), norm=norm)
        torch.testing.assert_close(net(x + torch.tensor([100.0, 0.0])), net(x + torch.tensor([0.0, 0.0])) + 100.0,
                                   rtol=1e-4, atol=1e-3)
    assert "norm.weight" in GRUForecaster(2, norm="revin").state_dict()       # RevIN's affine travels
    assert not any(k.startswith("norm") for k in GRUForecaster(2, norm="window").state_dict())


@pytest.mark.parametrize("order,season", [(1, 0), (0, 7), (1, 7), (0, 0)])
def test_differencing_round_trips(order, season):
    y = np.cumsum(np.random.default_rng(0).standard_normal(60)) + np.arange(60)
    d = Differencer(order, season)
    z = d.difference(y)
    k = d.lag
    assert k == order + season and np.isnan(z[:k]).all() and np.isfinite(z[k:]).all()
    np.testing.assert_allclose(d.integrate(y[:k], z[k:]), y[k:], atol=1e-9)       # all of it from the start
    # a forecast of H steps from any point: the past levels + future differences give the future levels
    t = np.array([20, 33, 59])
    past = y[t[:, None] - np.arange(max(k, 1), 0, -1)]
    np.testing.assert_allclose(d.integrate(past, np.stack([z[i:i + 1] for i in t])), y[t, None], atol=1e-9)
    np.testing.assert_allclose(d.integrate(y[:30], z[30:35]), y[30:35], atol=1e-9)


# --------------------------------------------------------------------------- inside the task

def test_no_test_row_statistic_reaches_training(tmp_path):
    y = np.linspace(0, 30, 200) + np.sin(np.arange(200))
    write_csv(tmp_path / "a.csv", y)
    y2 = y.copy()
    y2[150:] = 1e4 * np.cos(np.arange(50))      # wild validation and test rows
    write_csv(tmp_path / "b.csv", y2)
    objs = []
    for name in ("a", "b"):
        cfg = C.resolve(C.TASKS["forecaster"], csv=str(tmp_path / f"{name}.csv"), column="y", window=10,
                        hidden="4", normalize="revin", difference=1, difference_season=3, progress=False)
        torch.manual_seed(0)
        objs.append(ForecasterObjective(cfg))
    a, b = objs
    stop = a.parts.train.stop
    assert 150 > stop and (a.scaler.lo, a.scaler.hi) == (b.scaler.lo, b.scaler.hi)
    assert torch.equal(a.data[:stop], b.data[:stop])
    assert torch.equal(a.starts["train"], b.starts["train"]) and a.starts["train"][0] == 10 + 4
    for step in range(3):       # the same batches, losses and updates
        assert a.train_step(step) == b.train_step(step)


def test_training_and_forecast_time_agree(tmp_path):
    """forecast() on the rows before the last test window gives the GRU's test forecast of it."""
    t = np.arange(150)
    y = 0.2 * t + 3 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(0).standard_normal(150)
    write_csv(tmp_path / "s.csv", y, x=t % 3)
    run = ganforge.train("forecaster", csv=str(tmp_path / "s.csv"), column="y", features="x", window=12, horizon=3,
                         hidden="4", epochs=1, batch_size=16, normalize="revin", difference=1, difference_season=7,
                         progress=False, out=str(tmp_path / "runs"))
    model = ganforge.load(run / "best.pt")
    obj = ForecasterObjective(model.config)
    obj.net.load_state_dict(model.net.state_dict())
    rep = obj.test_report()
    assert rep["starts"][-1] == 147
    df = pd.read_csv(tmp_path / "s.csv")
    table = model.forecast(df.iloc[:147])
    np.testing.assert_allclose(table.y.to_numpy(), rep["forecasts"]["GRU"][-1], rtol=1e-5, atol=1e-5)
    with pytest.raises(UserError, match="reads the last 12 plus 8 more for differencing"):
        model.forecast(df.iloc[:19])


def test_old_checkpoint_loads_and_forecasts_the_same(tmp_path):
    """best.pt of a run made before --normalize existed (ganforge at 30b1fd0; no normalize,
    difference or difference_season in its config) still means the global scaler."""
    t = np.arange(120)
    write_csv(tmp_path / "old.csv", 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 7), x=t % 3)
    ckpt = torch.load(DATA / "forecaster-global-v0.pt", weights_only=True)
    assert "normalize" not in ckpt["config"]
    model = ganforge.load(DATA / "forecaster-global-v0.pt")
    assert (model.config.normalize, model.config.difference) == ("global", 0) and model.net.norm is None
    expected = json.loads((DATA / "forecaster-global-v0.json").read_text())
    table = model.forecast(str(tmp_path / "old.csv"))
    assert table.day.astype(str).tolist() == expected["day"]
    np.testing.assert_allclose(table.y.to_numpy(), expected["y"], rtol=0, atol=1e-6)


def test_old_checkpoint_resumes_with_the_global_scaler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)      # its config names old.csv and runs/ relative to where it was trained
    t = np.arange(120)
    write_csv(tmp_path / "old.csv", 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 7), x=t % 3)
    run = tmp_path / "runs" / "forecaster-0001"       # a resumed run continues in the checkpoint's directory
    run.mkdir(parents=True)
    shutil.copy(DATA / "forecaster-global-v0.pt", run / "best.pt")
    step = torch.load(run / "best.pt", weights_only=True)["step"]
    assert main(["train", "forecaster", "--resume", str(run / "best.pt"), "--steps", str(step + 2),
                 "--no-progress"]) == 0
    model = ganforge.load(run / "checkpoint.pt")
    assert (model.config.normalize, model.config.difference, model.step) == ("global", 0, step + 2)


@pytest.mark.parametrize("argv,match", [
    (["--difference-season", "100"], "the train part of this 120-row series is left with no windows"),
    (["--difference-season", "1"], "--difference-season must be 0 or a period of at least 2"),
    (["--difference", "2"], "difference must be one of 0, 1, got 2"),
    (["--normalize", "zscore"], "normalize must be one of global, window, revin, got 'zscore'"),
])
def test_bad_transform_flags_exit_2(tmp_path, capsys, argv, match):
    write_csv(tmp_path / "s.csv", np.arange(120.0))
    assert main(["train", "forecaster", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--window", "10",
                 "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and "Traceback" not in err


# --------------------------------------------------------------------------- what it is for

def trend(n, rng):
    t = np.arange(n)
    return 0.1 * t + 5 * np.sin(2 * np.pi * t / 52) + rng.standard_normal(n)


def walk(n, rng):
    return np.cumsum(1.0 + rng.standard_normal(n))


@pytest.mark.parametrize("make", [trend, walk])
def test_default_beats_naive_on_trending_series_where_global_does_not(tmp_path, make):
    write_csv(tmp_path / "s.csv", make(400, np.random.default_rng(0)))
    kw = dict(csv=str(tmp_path / "s.csv"), column="y", window=20, hidden="8", epochs=8, lr=1e-2, batch_size=16,
              patience=0, progress=False, out=str(tmp_path / "runs"))
    defaults = C.TASKS["forecaster"]()
    assert (defaults.normalize, defaults.difference, defaults.difference_season) == ("revin", 1, 0)
    scores = []
    for flags in ({}, dict(normalize="global", difference=0)):     # the default, and the scaler it replaced
        run = ganforge.train("forecaster", **flags, **kw)
        scores.append(json.loads((run / "test_metrics.json").read_text()))
    default, glob = scores
    for m in ("mae", "rmse"):
        assert default["GRU"][m] < default["naive"][m] < glob["GRU"][m]
