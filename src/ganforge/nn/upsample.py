"""Nearest 2x upsampling + 3x3 convolution in one layer, without the 4x larger intermediate map."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class UpsampleConv2d(nn.Module):
    """nn.Upsample(scale_factor=2) then nn.Conv2d(cin, cout, 3, padding=1): (N, cin, H, W) -> (N, cout, 2H, 2W).

    Same parameters, same function, fewer operations. Output pixel (2m + r, 2n + s) only ever
    sees input rows {m-1, m} (r = 0) or {m, m+1} (r = 1), and the same for columns, so each of
    the four output phases (r, s) is a 2x2 convolution of the *input* whose taps are sums of
    the 3x3 taps: row kernel [w0, w1 + w2] for r = 0 and [w0 + w1, w2] for r = 1. That is
    16 multiply-adds per 4 outputs instead of 36 (2.25x fewer), and the upsampled map is never
    materialised.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nn.Conv2d's default initialisation."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * 9)
            nn.init.uniform_(self.bias, -bound, bound)

    def phase_kernels(self) -> torch.Tensor:
        """(4 * cout, cin, 2, 2): the 2x2 kernels of phases (0,0), (0,1), (1,0), (1,1)."""
        w = self.weight
        rows = (torch.stack([w[:, :, 0], w[:, :, 1] + w[:, :, 2]], 2),     # r = 0
                torch.stack([w[:, :, 0] + w[:, :, 1], w[:, :, 2]], 2))     # r = 1
        kernels = [torch.stack([k[..., 0], k[..., 1] + k[..., 2]], 3) if s == 0 else
                   torch.stack([k[..., 0] + k[..., 1], k[..., 2]], 3)
                   for k in rows for s in (0, 1)]
        return torch.cat(kernels, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        bias = None if self.bias is None else self.bias.repeat(4).to(x.dtype)
        # padding=1 with a 2x2 kernel gives (h+1, w+1) positions; phase r starts at row offset r.
        y = F.conv2d(x, self.phase_kernels().to(x.dtype), bias, padding=1)
        y = y.view(-1, 2, 2, self.out_channels, h + 1, w + 1)   # -1, not n: an ONNX export keeps the batch dynamic
        out = torch.stack([torch.stack([y[:, r, s, :, r:r + h, s:s + w] for s in (0, 1)], -1) for r in (0, 1)], 3)
        return out.reshape(-1, self.out_channels, 2 * h, 2 * w)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, upsample=2, kernel_size=3, bias={self.bias is not None}"
