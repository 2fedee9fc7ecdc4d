"""DCGAN (Radford et al. 2016): strided / transposed convs, BatchNorm, ReLU in G, LeakyReLU(0.2)
in D, no pooling, no hidden fully connected layers, weights ~ N(0, 0.02).

Sizes: the image side is base * 2**k with the largest k leaving base >= 4, so 64 -> 4 * 2**4,
32 -> 4 * 2**3 and 28 -> 7 * 2**2. G projects z to base x base with one transposed conv, then
doubles k times; D mirrors it and ends in a base x base conv to one logit.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import UserError
from ..nn import init_normal
from .registry import register


def plan(size: int) -> tuple[int, int]:
    """(base, k) with size == base * 2**k, k as large as possible with base >= 4."""
    k = 0
    while size % 2 ** (k + 1) == 0 and size // 2 ** (k + 1) >= 4:
        k += 1
    if k == 0:
        raise UserError(f"dcgan needs an image side of base * 2**k with base >= 4 (28, 32, 64, ...), got {size}")
    return size // 2 ** k, k


class DCGenerator(nn.Module):
    """z (N, latent_dim) -> (N, C, S, S) in [-1, 1]."""

    def __init__(self, image_shape, latent_dim: int = 100, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        base, k = plan(size)
        ch = width * 2 ** (k - 1)
        layers = [nn.ConvTranspose2d(latent_dim, ch, base, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, c, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class DCDiscriminator(nn.Module):
    """(N, C, S, S) -> {"adv": logits (N,)}; forward_features gives the last (ch, base, base) map."""

    def __init__(self, image_shape, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        base, k = plan(size)
        layers, ch = [nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2, True)], width
        for _ in range(k - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers.append(nn.Conv2d(ch, 1, base, 1, 0))
        self.net = nn.Sequential(*layers)
        init_normal(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[:-1](x)

    def forward_head(self, f: torch.Tensor) -> torch.Tensor:
        return self.net[-1](f).flatten()

    def forward(self, x: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        return {"adv": self.net(x).flatten()}


@register("dcgan", kind="gan", summary="DCGAN (Radford et al.): transposed-conv G, strided-conv D, 28/32/64 px",
          example=dict(image_shape=(3, 64, 64)))
def build(image_shape, latent_dim: int = 100, width: int = 64):
    c, h, w = image_shape
    if h != w:
        raise UserError(f"dcgan needs square images, got {h}x{w}; set --image-size")
    return DCGenerator(image_shape, latent_dim, width), DCDiscriminator(image_shape, width)
