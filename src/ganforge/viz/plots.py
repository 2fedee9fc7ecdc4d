"""Task figures (matplotlib, imported lazily through viz._plt): the classifier's confusion matrix,
the forecaster's losses, test-part and forecast plots, and the backtest's per-fold panels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data import series as S
from ..metrics import forecast as M
from ..metrics import intervals as I
from ..metrics import report as R


def plot_confusion(cm: torch.Tensor, classes: list[str], path, title: str) -> None:
    from . import _plt

    plt = _plt()
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * k, 1.0 + 0.5 * k))
    ax.imshow(cm.numpy(), cmap="Blues")
    for i in range(k):
        for j in range(k):
            v = int(cm[i, j])
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > cm.max().item() / 2 else "black")
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_forecast(series: S.Series, table, history: int, path, baselines: tuple = ()) -> None:
    """The last `history` rows of the series and the forecast after them, to a PNG; `baselines`:
    further columns of `table` drawn as dashed lines (ganforge serve's naive, window mean, ...)."""
    from . import _plt

    plt = _plt()
    n = min(history, len(series))
    x = np.arange(len(series) - n, len(series)) if series.dates is None else series.dates[-n:]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(x, series.target[-n:], color="black", lw=1, label="history")
    levels = sorted((c[6:] for c in table.columns if c.startswith("lower_")), key=float, reverse=True)
    for i, pct in enumerate(levels):    # widest interval first, lightest; one step: a bar
        method = table.attrs.get("interval_method", "split")
        band = dict(color="C3", alpha=0.15 + 0.15 * i, label=f"{pct}% interval ({method} conformal)")
        if len(table) == 1:
            ax.vlines(table.iloc[:, 0], table[f"lower_{pct}"], table[f"upper_{pct}"], lw=8, **band)
        else:
            ax.fill_between(table.iloc[:, 0], table[f"lower_{pct}"], table[f"upper_{pct}"], lw=0, **band)
    ax.plot(table.iloc[:, 0], table.iloc[:, 1], "o-", color="C3", ms=3, label="forecast")
    for i, col in enumerate(baselines):
        ax.plot(table.iloc[:, 0], table[col], "x--", color=f"C{i + 4}", ms=4, lw=1, label=col.replace("_", " "))
    ax.set(title=f"forecast of {series.columns[0]}", ylabel=series.columns[0])
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    from ..files import save_figure

    try:
        save_figure(fig, path, dpi=100)   # a user's path: temp file + rename, one error line
    finally:
        plt.close(fig)


def plot_folds(per_fold: list[dict], labels: list[str], series: S.Series, path: Path, method: str = "") -> None:
    """One panel per fold: actual values, each model, and the best baseline of that fold (1 step ahead);
    the first model's intervals with their coverage, mean width and Winkler score, the naive
    forecast's interval scores in the title."""
    from . import _plt

    plt = _plt()
    fig, axes = plt.subplots(len(per_fold), 1, figsize=(14, 2.4 * len(per_fold)), squeeze=False)
    for k, (f, ax) in enumerate(zip(per_fold, axes[:, 0])):
        x = f["starts"] if series.dates is None else series.dates[f["starts"]]
        y = f["actual"][:, 0]
        ax.plot(x, y, color="black", lw=1, label="actual")
        base = min((n for n in f["forecasts"] if n not in labels),
                   key=lambda n: M.mae(f["actual"], f["forecasts"][n]))
        ib = f.get("interval_bounds", {}).get(method, {})
        q = {n: I.quality(f["actual"], b) for n, b in ib.items()}
        for j, (lvl, (lo, hi)) in enumerate(sorted(f["bounds"].get(labels[0], {}).items(), reverse=True)):
            ax.fill_between(x, lo[:, 0], hi[:, 0], color="C0", alpha=0.12 + 0.12 * j, lw=0,
                            label=f"{labels[0]} {float(lvl):.0%} interval: " + R.quality_text(q, lvl, labels[0]))
        for i, n in enumerate([*labels, base]):
            ax.plot(x, f["forecasts"][n][:, 0], lw=1, color=f"C{i}",
                    label=f"{n} (MAE {M.mae(f['actual'], f['forecasts'][n]):.3g})")
        span = "" if series.dates is None else f": {str(x[0])[:10]} .. {str(x[-1])[:10]}"
        naive = "; ".join(f"{float(lvl):.0%} " + R.quality_text(q, lvl, "naive") for lvl in q.get("naive", {}))
        ax.set_title(f"fold {k + 1}{span}" + (f"; naive's {method} intervals: {naive}" if naive else ""), fontsize=9)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0))
        ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")   # the legends stand right of the panels
    plt.close(fig)


def plot_epoch_losses(stats: list[dict], steps_per_epoch: int, path) -> None:
    """The forecaster's training loss (per step, raw and smoothed) and validation loss by epoch, log scale."""
    from . import _plt, smooth

    plt = _plt()
    train = [(s["step"] / steps_per_epoch, s["loss"]) for s in stats if "loss" in s]
    val = [(s["epoch"], s["val_loss"]) for s in stats if "val_loss" in s]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        x, v = zip(*train)
        ax.plot(x, v, alpha=0.2, color="C0")
        ax.plot(x, smooth(v, max(1, steps_per_epoch // 4)), color="C0", label="train (MSE, scaled)")
    if val:
        ax.plot(*zip(*val), "o-", color="C1", label="validation")
    ax.set(xlabel="epoch", ylabel="MSE", yscale="log", title="forecaster losses")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_test_part(rep: dict, series: S.Series, label: str, method: str, path) -> None:
    """The test part, 1 step ahead: actual values, the model `label` with its `method` intervals and
    their quality, its strongest baseline, the naive forecast's interval scores in the title. rep:
    the forecaster's test report (starts, actual, forecasts, rows, bounds, intervals)."""
    from . import _plt

    plt = _plt()
    x = rep["starts"] if series.dates is None else series.dates[rep["starts"]]
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(x, rep["actual"][:, 0], color="black", lw=1, label="actual")
    base = min((k for k in rep["rows"] if k != label), key=lambda k: rep["rows"][k]["mae"])
    for i, (lvl, (lo, hi)) in enumerate(sorted(rep["bounds"].get(label, {}).items(), reverse=True)):
        ax.fill_between(x, lo[:, 0], hi[:, 0], color="C0", alpha=0.15 + 0.15 * i, lw=0,
                        label=f"{float(lvl):.0%} {method} interval: "
                              + R.quality_text(rep["intervals"], lvl, label))
    for name in (label, base):       # the model and its strongest baseline
        ax.plot(x, rep["forecasts"][name][:, 0], lw=1, label=f"{name} (MAE {rep['rows'][name]['mae']:.3g})")
    naive = "; ".join(f"{float(lvl):.0%} " + R.quality_text(rep["intervals"], lvl, "naive")
                      for lvl in rep["intervals"].get("naive", {}))
    ax.set(title=f"test part, 1 step ahead: {series.columns[0]}" + (f"\nthe naive forecast's "
           f"{method} intervals: {naive}" if naive else ""), ylabel=series.columns[0])
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_feature_maps(image: torch.Tensor, maps: list[torch.Tensor], caption: str, title: str, cols: int, path) -> None:
    """The input image (C, H, W) in [-1, 1] with `caption` beside it, then one row per conv stage of
    its maps [(C_i, H_i, W_i)], at most `cols` each; written to a user's path (temp file + rename)."""
    from ..files import save_figure
    from . import _plt

    plt = _plt()
    fig, axes = plt.subplots(len(maps) + 1, cols, figsize=(max(1.3 * cols, 5.0), 1.5 * (len(maps) + 1)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0][0].imshow((image.permute(1, 2, 0).squeeze(-1).numpy() + 1) / 2, cmap="gray", vmin=0, vmax=1)
    if cols > 1:
        axes[0][0].set_title("input", fontsize=8)
        axes[0][1].text(0, 0.5, caption, fontsize=9)
    else:   # one column (--maps 1): no cell beside the input for the caption
        axes[0][0].set_title(f"input: {caption}", fontsize=7)
    for row, m in enumerate(maps, 1):
        for j in range(min(cols, m.shape[0])):
            axes[row][j].imshow(m[j].numpy(), cmap="viridis")
            axes[row][j].set_title(f"s{row} #{j}" + (f"  {m.shape[1]}x{m.shape[2]}" if j == 0 else ""), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
