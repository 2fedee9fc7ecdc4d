"""The GRU article's forecaster (seed 003): stacked GRU layers (50 -> 50) and a linear head.

The head maps the last state to all H future values at once (direct multi-step forecasting),
so a longer horizon costs no extra recurrent passes and errors do not feed back into inputs.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..nn.gru import GRU
from .registry import register

CELLS = ("torch", "ganforge")


class GRUForecaster(nn.Module):
    """windows x (B, W, F) scaled to [0, 1], target in feature 0 -> forecasts (B, H).

    cell="ganforge" stacks ganforge.nn.GRU (a fused recurrence with a hand-written backward, the
    faster one on the CPU; it also offers the article's reset_after=False equations);
    cell="torch" stacks torch.nn.GRU layers.
    """

    def __init__(self, n_inputs: int = 1, horizon: int = 1, hidden=(50, 50), cell: str = "ganforge",
                 reset_after: bool = True):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if cell == "torch" and not reset_after:
            raise ValueError("torch.nn.GRU only computes reset_after=True; use cell='ganforge'")
        self.n_inputs, self.horizon, self.hidden = n_inputs, horizon, tuple(hidden)
        self.cell, self.reset_after = cell, reset_after
        widths = (n_inputs, *self.hidden)
        if cell == "torch":
            layers = [nn.GRU(a, b, batch_first=True) for a, b in zip(widths, widths[1:])]
        else:
            layers = [GRU(a, b, reset_after=reset_after) for a, b in zip(widths, widths[1:])]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(self.hidden[-1], horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x, h = layer(x)
        return self.head(h[-1])


@register("gru", kind="forecaster", summary="stacked GRU (default 50 -> 50) + linear head for H steps at once "
          "(GRU article)", example=dict(n_inputs=1, horizon=1))
def build(n_inputs: int = 1, horizon: int = 1, hidden=(50, 50), cell: str = "ganforge",
          reset_after: bool = True) -> GRUForecaster:
    return GRUForecaster(n_inputs, horizon, hidden, cell, reset_after)
