"""The MNIST article's fully connected GAN (seed 004): G 256-512-1024, D 512-256-1."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from .registry import register


class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, C, H, W) in [-1, 1].

    Each hidden layer is Linear -> LeakyReLU(0.2) -> BatchNorm, the article's order; Keras'
    BatchNormalization(momentum=0.7) is PyTorch's momentum=0.3.
    """

    def __init__(self, image_shape, latent_dim: int = 100, hidden=(256, 512, 1024)):
        super().__init__()
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        layers, width = [], latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.BatchNorm1d(h, momentum=0.3)]
            width = h
        layers += [nn.Linear(width, math.prod(self.image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images (N, C, H, W) -> {"adv": real/fake logits (N,)}."""

    def __init__(self, image_shape, hidden=(512, 256)):
        super().__init__()
        layers, width = [nn.Flatten()], math.prod(image_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[:-1](x)

    def forward_head(self, f: torch.Tensor) -> torch.Tensor:
        return self.net[-1](f).squeeze(1)

    def forward(self, x: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        return {"adv": self.net(x).squeeze(1)}


@register("mlp", kind="gan", summary="MLP GAN of the MNIST article: G 256-512-1024 + BN, D 512-256-1",
          example=dict(image_shape=(1, 28, 28)))
def build(image_shape, latent_dim: int = 100, width: int = 64):
    scale = width / 64   # width 64 is the article's size; tests shrink it
    g_hidden = tuple(max(4, int(h * scale)) for h in (256, 512, 1024))
    d_hidden = tuple(max(4, int(h * scale)) for h in (512, 256))
    return MLPGenerator(image_shape, latent_dim, g_hidden), MLPDiscriminator(image_shape, d_hidden)
