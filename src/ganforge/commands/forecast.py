"""ganforge forecast CHECKPOINT --csv FILE: continue a series from its end, in original units."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def register(sub) -> None:
    from ..cli import add_command, add_device

    p = add_command(sub, "forecast", "continue a time series with a trained forecaster; writes dated forecasts "
                    "in original units (columns, dates and scaler come from the checkpoint)",
                    "ganforge forecast runs/forecaster-0001/best.pt -o forecast.csv\n"
                    "ganforge forecast runs/forecaster-0002 --csv sales.csv --horizon 3 -o next.csv --plot next.png")
    p.add_argument("checkpoint", help="a forecaster checkpoint (best.pt, checkpoint.pt) or its run directory")
    p.add_argument("--csv", help="CSV with the training columns, up to the last known row "
                                 "(default: the CSV the model was trained on)")
    p.add_argument("--horizon", type=int, default=None,
                   help="steps to forecast, at most the trained --horizon (default: the trained horizon)")
    p.add_argument("-o", "--output", default="forecast.csv", help="CSV to write (default forecast.csv)")
    p.add_argument("--plot", metavar="PNG", help="also plot the recent history and the forecast")
    p.add_argument("--history", type=int, default=0,
                   help="rows of history in the plot (default: the model's window)")
    add_device(p)
    p.set_defaults(func=_forecast)


def _forecast(args) -> int:
    from ..use.load import load
    from ..viz.plots import plot_forecast

    from ..files import output_file, write_text_output

    if args.history < 0:
        raise UserError(f"--history must be >= 0, got {args.history}")
    out = output_file(args.output)
    if args.plot:
        output_file(args.plot)
    model = load(_best(args.checkpoint), "forecaster", args.device)
    source = args.csv or model.config.csv or None
    series = model.read(source)
    from ..data.series import report

    report(series)      # a detected date order, rows --fill filled
    table = model.forecast(series, args.horizon)
    write_text_output(out, table.to_csv(index=False))
    if args.plot:
        plot_forecast(series, table, min(args.history or model.window, len(series)), args.plot)
    print(table.to_string(index=False))
    print(f"wrote {out} ({len(table)} forecast(s) of {model.column!r} from {source or 'the embedded Seattle weather'},"
          f" step {model.step} of {model.path})" + (f"; plot {args.plot}" if args.plot else ""))
    return 0


def _best(path: str) -> Path:
    """A run directory means its best.pt when validation kept one."""
    p = Path(path)
    return p / "best.pt" if p.is_dir() and (p / "best.pt").exists() else p
