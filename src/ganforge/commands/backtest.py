"""ganforge backtest: the forecaster on K rolling origins (expanding window), against every baseline."""
from __future__ import annotations

import argparse

from .. import config as C


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "backtest", "rolling-origin backtest of the forecaster: K folds (expanding window), "
                    "per-fold and mean ± std scores of each model and baseline, Diebold-Mariano p-values on the "
                    "pooled errors; takes every `train forecaster` flag",
                    "ganforge backtest --folds 5 --epochs 10\n"
                    "ganforge backtest --csv sales.csv --column units --folds 4 --no-retrain --intervals 0.8,0.95\n"
                    "ganforge backtest --folds 5 --cells ganforge,lstm --window 30")
    p.add_argument("--folds", type=int, default=5, help="number of forecast origins (default 5); each fold's test "
                   "block must hold at least --horizon + 2 rows (3 forecasts)")
    p.add_argument("--fold-size", type=int, default=0,
                   help="test rows per fold, at least --horizon + 2 (default 0: --test-frac of the series split "
                        "over the folds)")
    p.add_argument("--retrain", action=argparse.BooleanOptionalAction, default=True,
                   help="train a fresh model per fold (default); --no-retrain trains once at the first origin "
                        "and reuses it")
    p.add_argument("--cells", default="",
                   help="models to compare on the same folds, comma-separated: ganforge (GRU), torch (GRU), "
                        "lstm (default: --cell)")
    C.add_arguments(p, C.ForecasterConfig)
    p.set_defaults(func=_backtest)


def _backtest(args) -> int:
    from ..tasks.backtest import run_backtest
    from ..tasks.forecaster import parse_list

    cfg = C.resolve(C.ForecasterConfig, args, args.config, args.overrides)
    # run_backtest checks --folds and --fold-size (tasks.backtest.validate) before it reads the CSV
    path, result = run_backtest(cfg, args.folds, args.retrain, parse_list(args.cells), args.fold_size)
    print(result["text"])
    print(f"backtest directory: {path} (backtest.json, backtest.png, one run directory per model and fold)")
    return 0
