"""The first ganforge LAPGAN's level nets, kept so its checkpoints load (`--pyramid paper`, the
default): a 7 px coarsest level for 28 px images, band nets at full resolution, every level trained
on every step. models/lapgan.py's `--pyramid light` nets replace them for new runs (lapgan-mnist)."""
from __future__ import annotations

import torch
import torch.nn as nn

from ..nn import Flatten


class BandGenerator(nn.Module):
    """z (N, latent), cond u(l_{k+1}) (N, C, S, S) -> band h_k (N, C, S, S); z enters as one noise plane."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.side = side
        self.noise = nn.Linear(latent_dim, side * side)
        self.net = nn.Sequential(
            nn.Conv2d(channels + 1, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, channels, 3, 1, 1))

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        plane = self.noise(z).view(-1, 1, self.side, self.side).to(cond.dtype)
        return self.net(torch.cat([cond, plane], 1))


class BandDiscriminator(nn.Module):
    """(band (N, C, S, S), cond (N, C, S, S)) -> logits (N,); strided convs down to a side of 8 or less.
    first_stride 1: the paper's nets (a 3x3 conv at full side first); 2: the light pyramid's (strided
    from the first conv on). The layer names are the same either way."""

    def __init__(self, channels: int, side: int, width: int, first_stride: int = 1):
        super().__init__()
        first = (nn.Conv2d(2 * channels, width, 3, 1, 1) if first_stride == 1
                 else nn.Conv2d(2 * channels, width, 4, 2, 1))
        layers, ch, s = [first, nn.LeakyReLU(0.2, True)], width, side // first_stride
        while s > 8:
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch, s = ch * 2, s // 2
        self.net = nn.Sequential(*layers, Flatten(), nn.Linear(ch * s * s, 1))

    def forward(self, band: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([band, cond], 1)).flatten()


class CoarseGenerator(nn.Module):
    """z (N, latent) -> the coarsest level (N, C, S, S): a linear map to a (2 width, S, S) map, then
    convs at that side (a small conv GAN: the paper's MLP collapsed to a few blobs here)."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.side, self.ch = side, 2 * width
        self.fc = nn.Sequential(nn.Linear(latent_dim, self.ch * side * side), nn.BatchNorm1d(self.ch * side * side),
                                nn.ReLU(True))
        self.net = nn.Sequential(nn.Conv2d(self.ch, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
                                 nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, self.ch, self.side, self.side))


class CoarseDiscriminator(nn.Module):
    """The coarsest level (N, C, S, S) -> logits (N,): two convs, then a linear head."""

    def __init__(self, channels: int, side: int, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2, True), Flatten(),
                                 nn.Dropout(0.5), nn.Linear(2 * width * side * side, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
