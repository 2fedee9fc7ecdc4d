"""Differencing of a target series and its exact inverse (integration back to levels).

    d = Differencer(order=1, season=7)         # (1 - B)(1 - B^7) y
    z = d.difference(y)                         # z[:d.lag] is NaN: those rows have no past
    levels = d.integrate(y[t - d.lag:t], z_hat) # forecasts of z at t.. back to levels of y

The operator is a lag polynomial c(B) = sum_j c_j B^j with c_0 = 1: z_t = sum_j c_j y_{t-j},
so y_t = z_t - sum_{j>=1} c_j y_{t-j}. Integrating a multi-step forecast feeds each forecast
level back in as the past of the next step, exactly as the differencing consumed it.
"""
from __future__ import annotations

import numpy as np


class Differencer:
    """order 0 or 1 (first differences) times seasonal differencing at lag `season` (0: none)."""

    def __init__(self, order: int = 0, season: int = 0):
        if order not in (0, 1):
            raise ValueError(f"order must be 0 or 1, got {order}")
        if season < 0 or season == 1:
            raise ValueError(f"season must be 0 or at least 2, got {season}")
        self.order, self.season = order, season
        c = np.ones(1)
        if order:
            c = np.convolve(c, [1.0, -1.0])
        if season:
            c = np.convolve(c, np.r_[1.0, np.zeros(season - 1), -1.0])
        self.coef = c               # c_0 .. c_lag

    @property
    def lag(self) -> int:
        """Rows of past each differenced value needs (0: the identity)."""
        return len(self.coef) - 1

    def __bool__(self) -> bool:
        return self.lag > 0

    def difference(self, y: np.ndarray) -> np.ndarray:
        """(N,) levels -> (N,) differences; the first `lag` entries are NaN."""
        y = np.asarray(y, float)
        z = np.full_like(y, np.nan)
        k = self.lag
        if len(y) > k:
            z[k:] = sum(c * y[k - j:len(y) - j] for j, c in enumerate(self.coef))
        return z

    def integrate(self, history: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Levels of the steps that follow `history`.

        history (..., >= lag): the observed levels just before the first forecast step (only the
        last `lag` are used); z (..., H): forecast differences -> (..., H) levels."""
        z = np.asarray(z, float)
        k = self.lag
        if not k:
            return z
        history = np.asarray(history, float)
        ext = np.concatenate([history[..., history.shape[-1] - k:], np.zeros_like(z)], axis=-1)
        for h in range(z.shape[-1]):
            t = k + h
            ext[..., t] = z[..., h] - sum(c * ext[..., t - j] for j, c in enumerate(self.coef) if j)
        return ext[..., k:]

    def to_dict(self) -> dict:
        return {"order": self.order, "season": self.season}
