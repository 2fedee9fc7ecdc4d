"""The CIFAR-10 article's conv GAN (seed 001), layer for layer, for any size divisible by 4.

Odd details are kept on purpose: BatchNorm momenta 0.78/0.82/0.8, LeakyReLU slopes 0.2/0.25,
the ZeroPad2d((0, 1, 0, 1)) after the second conv. D returns logits; the article's Sigmoid
lives in the loss (BCE-with-logits is the same maths, numerically stable). Each
Upsample + 3x3 Conv2d pair of G is one UpsampleConv2d: the same parameters and function,
computed with 2.25x fewer multiply-adds.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import UserError
from ..nn import Flatten
from ..nn.upsample import UpsampleConv2d
from .family import Family
from .registry import register


class ConvGenerator(nn.Module):
    """z (N, latent_dim) -> (N, C, H, W): linear to 128 x H/4 x W/4, two (upsample, conv, BN, ReLU)."""

    def __init__(self, image_shape, latent_dim: int = 100, width: int = 64):
        super().__init__()
        c, h, w = image_shape
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        c1, c2 = 2 * width, width   # the article's 128 and 64
        self.net = nn.Sequential(
            nn.Linear(latent_dim, c1 * (h // 4) * (w // 4)),
            nn.ReLU(),
            nn.Unflatten(1, (c1, h // 4, w // 4)),
            UpsampleConv2d(c1, c1),          # nn.Upsample(scale_factor=2) + nn.Conv2d(c1, c1, 3, padding=1)
            nn.BatchNorm2d(c1, momentum=0.78),
            nn.ReLU(),
            UpsampleConv2d(c1, c2),          # nn.Upsample(scale_factor=2) + nn.Conv2d(c1, c2, 3, padding=1)
            nn.BatchNorm2d(c2, momentum=0.78),
            nn.ReLU(),
            nn.Conv2d(c2, c, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        return self.net(z)


class ConvDiscriminator(nn.Module):
    """(N, C, H, W) -> {"adv": logits (N,)}: 3x3 convs 32-64-128-256, dropout 0.25, a linear head."""

    def __init__(self, image_shape, width: int = 64):
        super().__init__()
        c = image_shape[0]
        w1, w2, w3, w4 = width // 2, width, 2 * width, 4 * width   # 32, 64, 128, 256
        self.features = nn.Sequential(
            nn.Conv2d(c, w1, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(w1, w2, 3, stride=2, padding=1),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.BatchNorm2d(w2, momentum=0.82),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            nn.Conv2d(w2, w3, 3, stride=2, padding=1),
            nn.BatchNorm2d(w3, momentum=0.82),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(w3, w4, 3, stride=1, padding=1),
            nn.BatchNorm2d(w4, momentum=0.8),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            Flatten(),
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(2, *image_shape)).shape[1]   # 256*5*5 at 32 px
        self.head = nn.Linear(n_flat, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(f).squeeze(1)

    def forward(self, x: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        return {"adv": self.head(self.features(x)).squeeze(1)}


@register("convgan", kind="gan", summary="conv GAN of the CIFAR-10 article: upsample+conv G, 4-conv D with dropout",
          example=dict(image_shape=(3, 32, 32)), family=Family(tiny=dict(data="synthetic:3x32x32:16")))
def build(image_shape, latent_dim: int = 100, width: int = 64):
    _, h, w = image_shape
    if h % 4 or w % 4:
        raise UserError(f"convgan needs an image size divisible by 4, got {h}x{w}; set --image-size")
    return ConvGenerator(image_shape, latent_dim, width), ConvDiscriminator(image_shape, width)
