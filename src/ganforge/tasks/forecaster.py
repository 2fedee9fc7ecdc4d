"""The forecaster task: a GRU trained on sliding windows of a CSV series, judged against baselines.

Rows split chronologically into train / validation / test; the min-max scaler sees the
training rows only. With --difference / --difference-season the target column is differenced
first (the network forecasts differences, integrated back to levels for every output); with
--normalize window|revin the network also normalises each input window by its own statistics
(ganforge.nn.revin), so a level never seen in training is no obstacle. One loop epoch = the
training windows once (the sampler drops a last partial batch); validation runs once per epoch
and best.pt keeps the lowest val_loss, which finish() then scores on the test windows in original
units next to naive, seasonal-naive and window-mean forecasts of the very same windows.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .. import models
from ..data import BatchSampler
from ..data import series as S
from ..data.transforms import Differencer
from ..config.forecaster import parse_levels
from ..errors import UserError
from ..nn import eval_mode
from ..metrics import forecast as M
from ..metrics import intervals as I
from ..metrics import report as R
from ..metrics import significance as G
from ..data.calendar import data_columns, with_calendar
from ..nn import checkpoint
from ..engine.loop import Objective, RunDir, adam
from ..config import ForecasterConfig
from ..models.loader import Loaded

EVAL_BATCH = 1024


def parse_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def read_training_series(cfg) -> S.Series:
    """The series `train forecaster` and `backtest` read, by the flags; what reading decided on its
    own goes to stderr, and the date order it detected into cfg (so the checkpoint reads new CSVs alike)."""
    series = S.read_series(cfg.csv or None, cfg.column, cfg.date_column or None, parse_list(cfg.features),
                           cfg.fill, cfg.date_format, cfg.sep, cfg.max_fill)
    S.report(series)
    cfg.date_format = series.date_format
    return series


def build_net(cfg, n_inputs: int) -> torch.nn.Module:
    return models.create("gru", kind="forecaster", n_inputs=n_inputs, horizon=cfg.horizon,
                         hidden=[int(h) for h in parse_list(cfg.hidden)], cell=cfg.cell,
                         reset_after=cfg.reset_after, norm=cfg.normalize)


def model_values(values: np.ndarray, diff: Differencer) -> np.ndarray:
    """The rows the network reads: (N, F) with the target column differenced when asked (its
    first diff.lag rows NaN); extra input columns stay as they are."""
    if not diff:
        return values
    values = values.copy()
    values[:, 0] = diff.difference(values[:, 0])
    return values


@torch.no_grad()
def predict(net: torch.nn.Module, data: torch.Tensor, window: int, horizon: int, starts: torch.Tensor) -> torch.Tensor:
    """Scaled forecasts (M, H), on the CPU, of the windows starting at `starts` (eval mode, in chunks;
    each chunk goes to the net's device: a loaded model's data stay on the CPU)."""
    device = next(net.parameters()).device
    with eval_mode(net):
        out = [net(S.windows(data, window, horizon, chunk)[0].to(device)).float().cpu()
               for chunk in starts.split(EVAL_BATCH)]
    return torch.cat(out) if out else torch.empty(0, horizon)


class ForecasterObjective(Objective):
    task = "forecaster"
    unit = "windows"
    best = ("val_loss", "min")

    def __init__(self, cfg, rt=None, series: S.Series | None = None, parts: S.Splits | None = None):
        super().__init__(cfg, rt)
        rt = self.rt
        self.series = series or read_training_series(cfg)
        if cfg.csv and series is None:   # the checkpoint names the file wherever it is used from
            cfg.csv = str(Path(cfg.csv).resolve())
        if cfg.calendar:
            self.series = with_calendar(self.series, cfg.horizon)
        # a backtest fold passes its own parts (the series then ends with the fold's test rows)
        self.parts = parts or S.split(len(self.series), cfg.window, cfg.horizon, cfg.val_frac, cfg.test_frac)
        self.conformal = None   # {level: split-conformal half-widths per horizon step}, for the report
        self.calib = None       # validation errors and local scales that every --interval-method starts from
        self.label = "LSTM" if cfg.cell == "lstm" else "GRU"
        # Differencing: a window's inputs start diff.lag rows later, so every input has its past.
        self.diff = Differencer(cfg.difference, cfg.difference_season)
        k = self.diff.lag
        self.starts = {name: S.window_starts(getattr(self.parts, name), cfg.window + k, cfg.horizon)
                       for name in ("train", "val", "test")}
        empty = [name for name, st in self.starts.items() if len(st) == 0]
        if empty:
            raise UserError(f"differencing (--difference {cfg.difference}, --difference-season "
                            f"{cfg.difference_season}) needs {k} rows before each window of {cfg.window}: the "
                            f"{empty[0]} part of this {len(self.series)}-row series is left with no windows; "
                            "use a smaller --difference-season or --window")
        values = model_values(self.series.values, self.diff)
        self.scaler = S.MinMaxScaler.fit(values[k:self.parts.train.stop])
        self.data = rt.place(torch.tensor(np.nan_to_num(self.scaler.transform(values)), dtype=torch.float32))
        n_train = len(self.starts["train"])
        if cfg.batch_size > n_train:
            raise UserError(f"--batch-size {cfg.batch_size} is larger than the {n_train} training windows; "
                            "use a smaller --batch-size")
        self.sampler = BatchSampler(n_train, self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.steps_per_epoch = self.sampler.steps_per_epoch
        # The loop counts steps; the user thinks in epochs. Fixing these here puts them in config.yaml.
        if cfg.steps == 0:
            cfg.steps = cfg.epochs * self.steps_per_epoch
        if cfg.eval_every == 0:
            cfg.eval_every = self.steps_per_epoch
        self.period = cfg.season or M.detect_period(self.series.target[:self.parts.train.stop], self.series.freq)
        self.net = rt.prepare(build_net(cfg, self.data.shape[1]))
        self.train_net = rt.wrap(self.net)
        self.modules = {"net": self.net}
        self.optimizers = {"net": adam(self.net.parameters(), cfg.lr)}

    def train_step(self, step: int) -> dict[str, float]:
        x, y = S.windows(self.data, self.cfg.window, self.cfg.horizon, self.starts["train"][self.sampler.indices(step)])
        with self.autocast():
            pred = self.train_net(x).float()
        loss = torch.nn.functional.mse_loss(pred, y)
        self.rt.update(self.optimizers["net"], loss)
        return {"loss": loss.item()}

    def _predict(self, part: str) -> torch.Tensor:
        with self.autocast():
            return predict(self.net, self.data, self.cfg.window, self.cfg.horizon, self.starts[part])

    def evaluate(self, step: int) -> dict[str, float]:
        self.calibrate()        # best.pt then carries the interval widths of its own weights
        y = S.windows(self.data, self.cfg.window, self.cfg.horizon, self.starts["val"])[1].cpu()
        return {"val_loss": torch.nn.functional.mse_loss(self._predict("val"), y).item(),
                "epoch": step / self.steps_per_epoch}

    def calibrate(self) -> None:
        """The current net's validation errors (M, H), those of the naive forecast and the windows'
        local scales (M,) (--intervals): what every --interval-method calibrates on."""
        if self.cfg.intervals:
            val, target = self.test_report("val"), self.series.target
            err = val["actual"] - val["forecast"]
            self.conformal = G.conformal_quantiles(err, parse_levels(self.cfg.intervals))
            last = self.parts.val.stop - 1
            self.calib = {"levels": parse_levels(self.cfg.intervals), "err": err,
                          "naive_err": val["actual"] - M.naive(target, val["starts"], self.cfg.horizon),
                          "scale": I.local_scale(target, val["starts"], self.cfg.window), "end_row": last + 1,
                          "end_date": None if self.series.dates is None else str(self.series.dates[last])}

    def interval_bounds(self, y: np.ndarray, starts: np.ndarray, preds: dict, method: str) -> dict:
        """{name: {level: (lower, upper)}} of forecasts {name: (M, H)} by `method`, each calibrated on
        its own validation errors (the GRU's, the naive forecast's); the adaptive methods update
        online from the errors of earlier windows whose actual values are known."""
        c = self.calib
        scale = I.local_scale(self.series.target, starts, self.cfg.window)
        return {name: I.bounds(p, I.half_widths(method, c["levels"], c["err" if name == self.label else "naive_err"],
                                                c["scale"], starts, scale, y - p, self.cfg.interval_gamma))
                for name, p in preds.items()}

    def test_report(self, part: str = "test", methods=()) -> dict:
        """Test scores in original units of the GRU and each baseline, on the same windows; with
        --intervals the bounds and their quality of --interval-method and of each of `methods`,
        for the GRU and the naive forecast."""
        cfg, target, starts = self.cfg, self.series.target, self.starts[part].numpy()
        y = M.actual(target, starts, cfg.horizon)
        gru = self.scaler.inverse(self._predict(part).double().numpy())
        if self.diff:   # forecast differences -> levels, from the observed past of each window
            gru = self.diff.integrate(target[starts[:, None] - np.arange(self.diff.lag, 0, -1)], gru)
        if part != "test":
            return {"actual": y, "forecast": gru, "starts": starts}
        scale = M.mase_scale(target[:self.parts.train.stop])
        s = self.series
        forecasts = {self.label: gru, **R.all_baselines(target, starts, cfg.horizon, cfg.window, self.period,
                                                        self.parts.train.stop, s.dates, s.freq)}
        self.calibrate()
        preds = {self.label: gru, "naive": forecasts["naive"]}
        by_method = {m: self.interval_bounds(y, starts, preds, m)
                     for m in dict.fromkeys([cfg.interval_method, *methods])} if self.calib else {}
        bounds = {self.label: by_method[cfg.interval_method][self.label]} if by_method else {}
        rep = R.build(y, forecasts, [self.label], scale, cfg.horizon, cfg.alpha, bounds)
        quality = {n: I.quality(y, b) for n, b in by_method.get(cfg.interval_method, {}).items()}
        return {**rep, "forecasts": forecasts, "actual": y, "starts": starts, "bounds": bounds,
                "interval_bounds": by_method, "intervals": quality}

    def finish(self, run: RunDir) -> dict:
        best = run.path / "best.pt"
        if best.exists():   # score the checkpoint that validation chose, not the last step
            checkpoint.load_module(self.net, checkpoint.load(best, self.task), "net")
        rep = self.test_report()
        rows = rep["rows"]
        (run.path / "test_metrics.json").write_text(json.dumps({
            "verdict": rep["verdict"], "period": self.period, "windows": len(rep["starts"]), "alpha": self.cfg.alpha,
            "dm_tests": rep["tests"][self.label], "coverage": rep["coverage"].get(self.label, {}),
            "interval_method": self.cfg.interval_method if rep["intervals"] else None, "intervals": rep["intervals"],
            "conformal_half_widths": self.conformal or {}, **rows}, indent=2))
        self._plots(run, rep)
        cover = R.interval_lines(rep["intervals"], self.cfg.interval_method)
        print(f"test part: {len(rep['starts'])} windows of {self.series.columns[0]!r} "
              f"(horizon {self.cfg.horizon}), original units; p: one-sided Diebold-Mariano (HLN) p-values of the "
              f"{self.label} against each baseline\n{R.table(rows, rep['tests'], self.label)}\n{rep['verdict']}\n"
              + (cover + "\n" if cover else "") + f"test predictions plotted in {run.path / 'test_forecast.png'}")
        summary = {f"test_{k}": v for k, v in rows[self.label].items()}
        summary.update({f"coverage_{lvl}": v for lvl, v in rep["coverage"].get(self.label, {}).items()})
        summary.update({f"winkler_{lvl}": q["winkler"] for lvl, q in rep["intervals"].get(self.label, {}).items()})
        for name, s in rows.items():
            if name != self.label:
                key = name.split(" (")[0].replace(" ", "_")
                summary.update({f"{key}_mae": s["mae"], f"{key}_rmse": s["rmse"], f"{key}_mase": s["mase"]})
        summary["verdict"] = rep["verdict"]
        return summary

    def _plots(self, run: RunDir, rep: dict) -> None:
        from ..viz.plots import plot_epoch_losses, plot_test_part

        plot_epoch_losses(run.read_stats(), self.steps_per_epoch, run.path / "losses.png")
        plot_test_part(rep, self.series, self.label, self.cfg.interval_method, run.path / "test_forecast.png")

    def meta(self) -> dict:
        s = self.series
        return {"columns": s.columns, "date_column": s.date_column, "freq": s.freq, "scaler": self.scaler.to_dict(),
                "period": self.period, "rows": len(s), "source": s.name, "conformal": self.conformal,
                "intervals": None if self.calib is None else {
                    k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.calib.items()}}


def build(cfg, rt=None) -> ForecasterObjective:
    return ForecasterObjective(cfg, rt)


class Forecaster(Loaded):
    """A trained forecaster rebuilt from its checkpoint alone.

    forecast(data, horizon) continues a series (a CSV path or DataFrame with the training
    columns) from its last row: a DataFrame of `horizon` dated values in original units.
    """

    # from_dict fills fields older checkpoints lack from CHECKPOINT_DEFAULTS (the global scaler)
    config_class = ForecasterConfig

    @classmethod
    def card_io(cls, config, meta):
        return {"value_range": None,
                "inputs": {"window": f"(N, {config.get('window')}, features) scaled by meta.scaler (min-max, [0, 1])"},
                "outputs": {"forecast": f"(N, {config.get('horizon')}) in the scaler's units of the first column"}}

    def build_nets(self, config, meta):
        return {"net": build_net(config, len(meta["columns"]))}

    def setup(self, nets) -> None:
        self.net = nets["net"]
        self.diff = Differencer(self.config.difference, self.config.difference_season)
        self.columns, self.scaler = self.meta["columns"], S.MinMaxScaler.from_dict(self.meta["scaler"])
        self.window, self.horizon = self.config.window, self.config.horizon

    @property
    def column(self) -> str:
        return self.columns[0]

    def read(self, data) -> S.Series:
        cols = data_columns(self.columns)
        c = self.config    # checkpoints older than these flags: mixed dates, commas, no fill limit
        s = S.read_series(data, cols[0], self.meta["date_column"], cols[1:], c.fill, c.date_format, c.sep, c.max_fill)
        return with_calendar(s, self.horizon) if self.config.calendar else s

    def forecast(self, data, horizon: int | None = None):
        """DataFrame with a date column (or `step` without dates) and the forecast column."""
        import pandas as pd

        horizon = self.horizon if horizon is None else horizon
        if horizon < 1:
            raise UserError(f"--horizon must be positive, got {horizon}")
        if horizon > self.horizon:
            raise UserError(f"--horizon {horizon} is larger than this checkpoint was trained for: it predicts "
                            f"{self.horizon} step(s) at once; train with --horizon {horizon} for more")
        s = data if isinstance(data, S.Series) else self.read(data)
        if self.config.calendar:
            s = with_calendar(s, self.horizon)
        k = self.diff.lag
        if len(s) < self.window + k:
            raise UserError(f"the series has {len(s)} rows; this forecaster reads the last {self.window}"
                            + (f" plus {k} more for differencing" if k else ""))
        rows = model_values(s.values[len(s) - self.window - k:], self.diff)[k:]
        x = torch.tensor(self.scaler.transform(rows), dtype=torch.float32)[None]
        with torch.no_grad():
            values = self.scaler.inverse(self.net(self.to_device(x))[0, :horizon].double().cpu().numpy())
        if k:           # differences -> levels, continuing from the series' last observed values
            values = self.diff.integrate(s.target[len(s) - k:], values)
        if s.dates is None:
            index = pd.Series(np.arange(len(s), len(s) + horizon), name="step")
        else:
            index = pd.Series(pd.date_range(s.dates[-1], periods=horizon + 1, freq=s.freq)[1:],
                              name=s.date_column)
        table = pd.DataFrame({index.name: index.values, self.column: values})
        for lvl, q in sorted(self.half_widths(s).items()):
            pct = f"{round(float(lvl) * 100):g}"
            table[f"lower_{pct}"] = values - np.asarray(q[:horizon])
            table[f"upper_{pct}"] = values + np.asarray(q[:horizon])
        table.attrs["interval_method"] = self.config.interval_method
        return table

    def half_widths(self, s: S.Series) -> dict[str, np.ndarray]:
        """{level: (H,) half-widths} of the forecast after the last row of `s`, by the checkpoint's
        --interval-method. The adaptive methods first replay their online updates over the windows
        of `s` whose targets come after the validation part (by date, else by row), so a forecast
        from a longer series has seen the errors made since training."""
        cal = self.meta.get("intervals")
        if not cal:     # checkpoints before --interval-method stored split-conformal widths only
            return {lvl: np.asarray(q, float) for lvl, q in (self.meta.get("conformal") or {}).items()}
        try:
            levels, err, cal_scale = cal["levels"], np.asarray(cal["err"], float), np.asarray(cal["scale"], float)
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{self.path}: the checkpoint's interval calibration is damaged") from None
        method, target, n, k = self.config.interval_method, s.target, len(s), self.diff.lag
        starts, errors = np.array([n]), None
        if method.startswith("adaptive"):
            first = int(cal.get("end_row") or 0)
            if s.dates is not None and cal.get("end_date"):
                first = int(np.searchsorted(s.dates, np.datetime64(cal["end_date"]), side="right"))
            replay = np.arange(max(first, self.window + k), n - self.horizon + 1)
            if len(replay):
                data = torch.tensor(np.nan_to_num(self.scaler.transform(model_values(s.values, self.diff))),
                                    dtype=torch.float32)
                pred = self.scaler.inverse(predict(self.net, data, self.window, self.horizon,
                                                   torch.as_tensor(replay)).double().numpy())
                if k:
                    pred = self.diff.integrate(target[replay[:, None] - np.arange(k, 0, -1)], pred)
                starts = np.append(replay, n)
                errors = np.vstack([M.actual(target, replay, self.horizon) - pred, np.full((1, self.horizon), np.nan)])
        widths = I.half_widths(method, levels, err, cal_scale, starts, I.local_scale(target, starts, self.window),
                               errors, self.config.interval_gamma)
        return {lvl: w[-1] for lvl, w in widths.items()}


LOADER = Forecaster


def load(ckpt: dict, device=None) -> Forecaster:
    return Forecaster(ckpt, device=device)
