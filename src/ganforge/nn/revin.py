"""Per-window normalisation of forecaster inputs, restored on the outputs.

Reversible instance normalisation (RevIN, Kim et al., ICLR 2022): each input window is
normalised by its own mean and standard deviation per feature, so the network sees the shape
of the recent past and not its level; the forecast is mapped back with the same statistics.
With affine=True a learnable per-feature scale and shift is applied after the normalisation
and undone (for the target feature) before the restoration, as in the paper; with
affine=False it is plain instance normalisation and has no parameters.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class RevIN(nn.Module):
    def __init__(self, n_features: int, affine: bool = True, eps: float = 1e-5):
        super().__init__()
        self.n_features, self.affine, self.eps = n_features, affine, eps
        if affine:
            self.weight = nn.Parameter(torch.ones(n_features))
            self.bias = nn.Parameter(torch.zeros(n_features))

    def normalize(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x (B, W, F) -> normalised (B, W, F) and the window statistics (mean, std), each (B, 1, F).

        Statistics come from the W input rows alone (population variance, eps inside the root)."""
        mean = x.mean(dim=1, keepdim=True).detach()
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps).detach()
        x = (x - mean) / std
        if self.affine:
            x = x * self.weight + self.bias
        return x, (mean, std)

    def restore(self, y: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor], feature: int = 0) -> torch.Tensor:
        """y (B, H) in the normalised space of `feature` -> (B, H) in the input's units."""
        mean, std = (s[:, 0, feature:feature + 1] for s in stats)
        if self.affine:
            # the paper's guard against a weight that reaches zero
            y = (y - self.bias[feature]) / (self.weight[feature] + self.eps ** 2)
        return y * std + mean

    def extra_repr(self) -> str:
        return f"{self.n_features}, affine={self.affine}, eps={self.eps}"
