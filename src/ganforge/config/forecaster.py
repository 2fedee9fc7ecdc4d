"""`ganforge train forecaster`: a GRU on a CSV series, judged against naive baselines."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import UserError
from .base import RunConfig, opt

DATE_ORDERS = ("", "dayfirst", "monthfirst", "mixed")
SEPS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def parse_sep(text: str) -> str:
    """--sep as one character ("" stays "": sniff); tab, \\t, comma, semicolon and pipe by name."""
    sep = SEPS.get(text, text)
    if len(sep) > 1 or sep.isalnum() or sep and sep in "\"\n\r":
        raise UserError(f"--sep must be one delimiter character (e.g. ';'), or tab, got {text!r}")
    return sep


@dataclass
class ForecasterConfig(RunConfig):
    help: ClassVar[str] = ("train a GRU forecaster on a CSV time series and score it against naive baselines "
                           "(default: tomorrow's max temperature in Seattle)")
    example: ClassVar[str] = ("ganforge train forecaster\n"
                              "ganforge train forecaster --csv sales.csv --column units --date-column day "
                              "--horizon 7 --fill interpolate\n"
                              "ganforge train forecaster --features temp_min,precipitation --window 60 --cell torch")

    # Checkpoints written before a field existed trained with these values, not today's defaults.
    CHECKPOINT_DEFAULTS: ClassVar[dict] = {"normalize": "global", "difference": 0, "difference_season": 0,
                                           "date_format": "mixed", "sep": ",", "max_fill": 1.0,
                                           "interval_method": "split"}

    steps: int = opt(0, "training steps (0: --epochs x training windows / --batch-size)", ge=0)
    precision: str = opt("fp32", "fp32 (default: a small GRU gains nothing from bf16, and its C kernel runs in fp32), "
                         "bf16, fp16, or auto (as for the image tasks)", ("auto", "fp32", "bf16", "fp16"))
    batch_size: int = opt(32, "windows per batch (all processes together under torchrun)", gt=0)
    eval_every: int = opt(0, "validate every N steps (0: once per epoch); best.pt keeps the lowest val_loss", ge=0)
    patience: int = opt(5, "stop after this many validations without a better val_loss (0: never)", ge=0)
    sample_every: int = opt(0, "unused by the forecaster (plots are written at the end)", ge=0)
    csv: str = opt("", "CSV file with one row per time step (empty: the embedded Seattle weather 2012-2015)")
    column: str = opt("temp_max", "column to predict")
    date_column: str = opt("", "date column (empty: a column named date, time, timestamp, ... if there is one)")
    features: str = opt("", "extra input columns, comma-separated, e.g. temp_min,precipitation")
    date_format: str = opt("", "how to read the dates: dayfirst (31/01/2020), monthfirst (01/31/2020), a strftime "
                           "format like %d.%m.%Y, or mixed (each date guessed on its own); empty: detect the order "
                           "of numeric dates and refuse ambiguous or inconsistent ones (saved in the checkpoint, so "
                           "forecast, backtest and serve read new CSVs the same way)")
    sep: str = opt("", "CSV delimiter: one character such as ';' or '|', or tab (empty: sniffed from the header "
                   "line); with ';' a decimal comma (12,5) reads as 12.5")
    fill: str = opt("none", "fill missing values and missing dates (none: refuse them); says how many it filled",
                    ("none", "interpolate", "ffill"))
    max_fill: float = opt(0.05, "largest fraction of the rows --fill may invent (many gaps are more often misread "
                          "dates than lost rows)", ge=0, le=1)
    window: int = opt(100, "past steps the GRU reads per forecast", gt=0)
    horizon: int = opt(1, "future steps predicted at once", gt=0)
    normalize: str = opt("revin", "input scaling: global (min-max fitted on the training rows), window (also "
                         "--column of each input window by its own mean and std, the forecast restored with them; "
                         "extra inputs keep the min-max scaling) or revin (window plus the learnable affine of "
                         "RevIN, Kim et al. 2022); window and revin follow trends beyond the training range",
                         ("global", "window", "revin"))
    difference: int = opt(1, "1: the model forecasts first differences of --column, integrated back to levels "
                          "for outputs, metrics and plots; 0: levels", (0, 1))
    difference_season: int = opt(0, "P >= 2: also difference at lag P (seasonal differencing, e.g. 7 or 52); "
                                 "0: none", ge=0)
    epochs: int = opt(50, "passes over the training windows (sets --steps when that is 0)", gt=0)
    hidden: str = opt("50,50", "GRU layer sizes, comma-separated")
    cell: str = opt("ganforge", "recurrent cell: ganforge (ganforge.nn.GRU, faster: fused recurrence with a "
                    "hand-written backward), torch (torch.nn.GRU) or lstm (torch.nn.LSTM, to compare with the GRU)",
                    ("torch", "ganforge", "lstm"))
    reset_after: bool = opt(True, "apply the reset gate after the recurrent product (torch/Keras maths); "
                            "--no-reset-after is the article's equations and needs --cell ganforge")
    lr: float = opt(1e-3, "Adam learning rate", gt=0)
    val_frac: float = opt(0.15, "fraction of rows (the middle part) for validation", gt=0, lt=1)
    test_frac: float = opt(0.15, "fraction of rows (the last part) for the test", gt=0, lt=1)
    season: int = opt(0, "period of the seasonal-naive baseline, e.g. 7 or 365 (0: detect from the training part)", ge=0)
    alpha: float = opt(0.05, "significance level of the one-sided Diebold-Mariano test behind every 'better than "
                       "baseline' verdict", gt=0, lt=1)
    intervals: str = opt("", "prediction interval levels, comma-separated, e.g. 0.8,0.95: conformal bounds "
                         "from the validation residuals of each horizon step (see --interval-method)")
    interval_method: str = opt("adaptive", "how --intervals are built from the validation errors: split "
                               "(split conformal, fixed widths), scaled (split conformal on errors divided by the "
                               "window's mean absolute one-step change), adaptive (adaptive conformal inference, "
                               "Gibbs & Candes 2021: the calibration set slides forward and the level moves with "
                               "each miss as actual values arrive) or adaptive-scaled (both)",
                               ("split", "scaled", "adaptive", "adaptive-scaled"))
    interval_gamma: float = opt(0.05, "step size of the adaptive methods' level update (0: slide the calibration "
                                "set only)", ge=0, lt=1)
    calendar: bool = opt(False, "add day-of-week and day-of-year (sin, cos) inputs of the forecast dates, which are "
                         "known in advance (needs a date column)")

    def validate(self) -> None:
        super().validate()
        sizes = [h.strip() for h in self.hidden.split(",") if h.strip()]
        if not sizes or not all(h.isdigit() and int(h) > 0 for h in sizes):
            raise UserError(f"--hidden must be positive layer sizes like 50,50, got {self.hidden!r}")
        if self.difference_season == 1:
            raise UserError("--difference-season must be 0 or a period of at least 2; "
                            "for first differences use --difference 1")
        if self.date_format not in DATE_ORDERS and "%" not in self.date_format:
            raise UserError(f"--date-format must be dayfirst, monthfirst, mixed or a strftime format like %d/%m/%Y, "
                            f"got {self.date_format!r}")
        parse_sep(self.sep)
        if self.val_frac + self.test_frac >= 1:
            raise UserError(f"--val-frac and --test-frac must sum to less than 1, got {self.val_frac} and {self.test_frac}")
        if self.intervals:
            try:
                parse_levels(self.intervals)
            except ValueError as e:
                raise UserError(f"--intervals must be levels in (0, 1) like 0.8,0.95: {e}") from None
        if self.cell != "ganforge" and not self.reset_after:
            raise UserError("--no-reset-after (the article's equations) needs --cell ganforge: "
                            f"--cell {self.cell} only computes the reset-after variant")


def parse_levels(text: str) -> list[float]:
    """'0.8,0.95' -> [0.8, 0.95]; raises ValueError naming the bad entry."""
    levels = []
    for part in (t.strip() for t in str(text).split(",")):
        if not part:
            continue
        try:
            v = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number") from None
        if not 0 < v < 1:
            raise ValueError(f"{part} is outside (0, 1)")
        levels.append(v)
    return sorted(set(levels))
