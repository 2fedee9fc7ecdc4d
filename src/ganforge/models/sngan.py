"""SNGAN (Miyato et al. 2018): the ResNet generator and discriminator of the paper's CIFAR-10
experiments, spectral normalisation on every conv / linear layer of D, trained with the hinge loss.

Sizes: the image side is base * 2**k (28 = 7 * 2**2, 32 = 4 * 2**3, as in dcgan.plan).
    G  z (N, latent) -> linear to (4w, base, base) -> k up-blocks (BN, ReLU, nearest x2, conv3x3,
       BN, ReLU, conv3x3; a 1x1 conv on the upsampled shortcut) -> BN, ReLU, conv3x3, tanh
       -> (N, C, S, S) in [-1, 1].
    D  (N, C, S, S) -> an optimised first block (conv3x3, ReLU, conv3x3, 2x2 average pool; shortcut
       pool then 1x1 conv) -> k - 1 down-blocks -> one block at the same size -> ReLU -> sum over
       space -> linear -> {"adv": (N,)}. D has no batch norm (spectral norm is its only normaliser).
Widths: G's blocks have 4 * width channels, D's 2 * width (width 64: the paper's 256 and 128).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import UserError
from .dcgan import plan
from .family import Family
from .registry import register


def _xavier(module: nn.Module, gain: float = 1.0) -> nn.Module:
    nn.init.xavier_uniform_(module.weight, gain)
    nn.init.zeros_(module.bias)
    return module


class GBlock(nn.Module):
    """(N, ch, s, s) -> (N, ch, 2s, 2s): pre-activation residual block with nearest upsampling."""

    def __init__(self, ch: int):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(ch), nn.BatchNorm2d(ch)
        self.c1, self.c2 = _xavier(nn.Conv2d(ch, ch, 3, 1, 1), 2 ** 0.5), _xavier(nn.Conv2d(ch, ch, 3, 1, 1), 2 ** 0.5)
        self.sc = _xavier(nn.Conv2d(ch, ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.c2(F.relu(self.bn2(self.c1(h))))
        return h + self.sc(F.interpolate(x, scale_factor=2))


class DBlock(nn.Module):
    """(N, cin, s, s) -> (N, cout, s/2 or s, ...): ReLU-conv-ReLU-conv (+ 2x2 pool), spectral norm.
    first: the optimised block on the image (no ReLU before the first conv, pool before the shortcut conv)."""

    def __init__(self, cin: int, cout: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.c1 = spectral_norm(_xavier(nn.Conv2d(cin, cout, 3, 1, 1), 2 ** 0.5))
        self.c2 = spectral_norm(_xavier(nn.Conv2d(cout, cout, 3, 1, 1), 2 ** 0.5))
        self.sc = spectral_norm(_xavier(nn.Conv2d(cin, cout, 1))) if (cin != cout or down) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c1(x if self.first else F.relu(x))
        h = self.c2(F.relu(h))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.sc is not None:   # the optimised block pools first, the others convolve first
            s = self.sc(F.avg_pool2d(s, 2)) if self.first else self.sc(s)
            s = s if self.first or not self.down else F.avg_pool2d(s, 2)
        return h + s


class SNGenerator(nn.Module):
    """z (N, latent_dim) -> (N, C, S, S) in [-1, 1]."""

    def __init__(self, image_shape, latent_dim: int = 128, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        self.base, k = plan(size)
        self.ch = 4 * width
        self.fc = _xavier(nn.Linear(latent_dim, self.ch * self.base ** 2))
        self.blocks = nn.Sequential(*(GBlock(self.ch) for _ in range(k)))
        self.out = nn.Sequential(nn.BatchNorm2d(self.ch), nn.ReLU(), _xavier(nn.Conv2d(self.ch, c, 3, 1, 1)), nn.Tanh())

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        h = self.fc(z).view(-1, self.ch, self.base, self.base)
        return self.out(self.blocks(h))


class SNDiscriminator(nn.Module):
    """(N, C, S, S) -> {"adv": (N,)}; forward_features gives the summed features (N, 2 * width)."""

    def __init__(self, image_shape, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        _, k = plan(size)
        ch = 2 * width
        blocks = [DBlock(c, ch, down=True, first=True)]
        blocks += [DBlock(ch, ch, down=True) for _ in range(k - 1)]
        blocks += [DBlock(ch, ch, down=False)]
        self.blocks = nn.Sequential(*blocks)
        self.head = spectral_norm(_xavier(nn.Linear(ch, 1)))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.blocks(x)).sum(dim=(2, 3))

    def forward_head(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(f).flatten()

    def forward(self, x: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        return {"adv": self.forward_head(self.forward_features(x))}


@register("sngan", kind="gan", summary="SNGAN (Miyato et al.): ResNet G and D, spectral norm in D, hinge loss; "
          "28/32 px", example=dict(image_shape=(3, 32, 32)),
          family=Family(defaults={"loss": "hinge", "beta1": 0.0, "beta2": 0.9}, tiny=dict(data="synthetic:3x32x32:16")))
def build(image_shape, latent_dim: int = 128, width: int = 64):
    c, h, w = image_shape
    if h != w:
        raise UserError(f"sngan needs square images, got {h}x{w}; set --image-size")
    return SNGenerator(image_shape, latent_dim, width), SNDiscriminator(image_shape, width)
