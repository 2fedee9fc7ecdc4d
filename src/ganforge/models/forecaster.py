"""The GRU article's forecaster (seed 003): stacked GRU layers (50 -> 50) and a linear head.

The head maps the last state to all H future values at once (direct multi-step forecasting),
so a longer horizon costs no extra recurrent passes and errors do not feed back into inputs.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..nn.gru import GRU
from ..nn.revin import RevIN
from .registry import register

CELLS = ("torch", "ganforge", "lstm")
NORMS = ("global", "window", "revin")   # global: the inputs as given (the task's train-fitted scaler)


class GRUForecaster(nn.Module):
    """windows x (B, W, F) scaled to [0, 1], target in feature 0 -> forecasts (B, H).

    cell="ganforge" stacks ganforge.nn.GRU (a fused recurrence with a hand-written backward, the
    faster one on the CPU; it also offers the article's reset_after=False equations);
    cell="torch" stacks torch.nn.GRU layers; cell="lstm" stacks torch.nn.LSTM layers (the GRU
    article's comparison: an extra cell state and output gate, a third more parameters).
    """

    def __init__(self, n_inputs: int = 1, horizon: int = 1, hidden=(50, 50), cell: str = "ganforge",
                 reset_after: bool = True, norm: str = "global"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if cell != "ganforge" and not reset_after:
            raise ValueError(f"cell={cell!r} only computes reset_after=True; use cell='ganforge'")
        self.n_inputs, self.horizon, self.hidden = n_inputs, horizon, tuple(hidden)
        self.cell, self.reset_after = cell, reset_after
        widths = (n_inputs, *self.hidden)
        if cell == "torch":
            layers = [nn.GRU(a, b, batch_first=True) for a, b in zip(widths, widths[1:])]
        elif cell == "lstm":
            layers = [nn.LSTM(a, b, batch_first=True) for a, b in zip(widths, widths[1:])]
        else:
            layers = [GRU(a, b, reset_after=reset_after) for a, b in zip(widths, widths[1:])]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(self.hidden[-1], horizon)
        # norm="window"|"revin": each window's target column is normalised by its own statistics and
        # the forecast restored with them (RevIN). Extra inputs keep their level (rain or no rain),
        # as the task's scaler gave it; "global" adds nothing, so old state dicts load unchanged.
        self.norm_kind = norm
        self.norm = None if norm == "global" else RevIN(1, affine=norm == "revin")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            target, stats = self.norm.normalize(x[..., :1])
            x = torch.cat([target, x[..., 1:]], dim=-1)
        for layer in self.layers:
            x, h = layer(x)
        if isinstance(h, tuple):      # LSTM: (hidden state, cell state)
            h = h[0]
        y = self.head(h[-1])
        return y if self.norm is None else self.norm.restore(y, stats)


@register("gru", kind="forecaster", summary="stacked GRU (default 50 -> 50) + linear head for H steps at once "
          "(GRU article)", example=dict(n_inputs=1, horizon=1))
def build(n_inputs: int = 1, horizon: int = 1, hidden=(50, 50), cell: str = "ganforge",
          reset_after: bool = True, norm: str = "global") -> GRUForecaster:
    return GRUForecaster(n_inputs, horizon, hidden, cell, reset_after, norm)
