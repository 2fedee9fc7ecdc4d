"""Super-resolution nets of SRGAN (Ledig et al. 2017): the SRResNet generator and the SRGAN
discriminator.

Generator (N, 3, h, w) in [-1, 1] -> (N, 3, s*h, s*w), s = 2 or 4:

    9x9 conv + PReLU -> B residual blocks (3x3 conv, [BN], PReLU, 3x3 conv, [BN], + input)
    -> 3x3 conv [BN] + the 9x9 output (the global skip) -> log2(s) sub-pixel stages
    (3x3 conv to 4C, PixelShuffle(2), PReLU) -> 9x9 conv to 3 channels [+ bicubic(input)]

Sub-pixel convolution (Shi et al. 2016) computes the four phases of the 2x output at low
resolution; its conv starts from the ICNR initialisation (Aitken et al. 2017: the four phases
equal), which removes the checkerboard such a layer shows when its phases start unrelated.
`image_skip` adds the bicubic upscaling of the input to the output, so the net learns only the
missing detail (VDSR, Kim et al. 2016): it starts at bicubic quality, which a short CPU run needs;
off, it is the paper's net. `bn` off by default: EDSR (Lim et al. 2017) measured that batch norm
costs SR accuracy, and without it a net is the same function in training and evaluation.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import UserError
from ..nn import Flatten
from .registry import register

SCALES = (2, 4)


def bicubic_up(x: torch.Tensor, scale: int) -> torch.Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w) bicubic (align_corners=False); borders replicate."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


class ResidualBlock(nn.Module):
    """x + conv(PReLU(conv(x))), with batch norm after each conv when bn: (N, C, H, W) -> same."""

    def __init__(self, width: int, bn: bool):
        super().__init__()
        layers = [nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width) if bn else nn.Identity(),
                  nn.PReLU(width), nn.Conv2d(width, width, 3, padding=1),
                  nn.BatchNorm2d(width) if bn else nn.Identity()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def icnr_(conv: nn.Conv2d, r: int = 2) -> None:
    """Initialise a conv feeding PixelShuffle(r) so that its r*r output phases start identical."""
    cout, cin, k, _ = conv.weight.shape
    sub = torch.empty(cout // (r * r), cin, k, k)
    nn.init.kaiming_normal_(sub, a=0.25, nonlinearity="leaky_relu")
    with torch.no_grad():
        conv.weight.copy_(sub.repeat_interleave(r * r, 0))   # channel c*r*r + i -> phase i of channel c
        conv.bias.zero_()


class SubPixelUp(nn.Sequential):
    """3x3 conv to 4C, PixelShuffle(2), PReLU: (N, C, H, W) -> (N, C, 2H, 2W)."""

    def __init__(self, width: int):
        conv = nn.Conv2d(width, 4 * width, 3, padding=1)
        icnr_(conv, 2)
        super().__init__(conv, nn.PixelShuffle(2), nn.PReLU(width))


class SRResNet(nn.Module):
    """The SRGAN generator; see the module docstring. (N, 3, h, w) -> (N, 3, scale*h, scale*w)."""

    def __init__(self, scale: int = 4, blocks: int = 16, width: int = 64, bn: bool = False,
                 image_skip: bool = True, channels: int = 3):
        super().__init__()
        if scale not in SCALES:
            raise UserError(f"--scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
        self.scale, self.blocks, self.image_skip = scale, blocks, image_skip
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(*(ResidualBlock(width, bn) for _ in range(blocks)))
        self.mid = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width) if bn else nn.Identity())
        self.up = nn.Sequential(*(SubPixelUp(width) for _ in range(int(math.log2(scale)))))
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        y = self.tail(self.up(self.mid(self.body(h)) + h))
        return y + bicubic_up(x, self.scale) if self.image_skip else y

    def margin(self) -> int:
        """Receptive-field radius in input pixels: the context a tile needs for an exact result."""
        up = sum(1 / 2 ** i for i in range(len(self.up)))   # each 3x3 sub-pixel conv at 1, 2, ... x resolution
        return math.ceil(max(4 + 2 * self.blocks + 1 + up + 4 / self.scale, 2))   # 2: the bicubic path's reach


def _d_block(cin: int, cout: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]


class SRDiscriminator(nn.Module):
    """The SRGAN discriminator: 8 3x3 convs (widths w, w, 2w, 2w, 4w, 4w, 8w, 8w; stride 2 on every
    second), LeakyReLU(0.2), BN after all but the first, then dense 16w, LeakyReLU, dense 1.

    (N, 3, H, W) -> {"adv": logits (N, 1)}. The paper flattens a 6x6 map of its 96 px crops; an
    adaptive average pool to 4x4 first lets any crop size (28 px digits too) use one D.
    """

    def __init__(self, width: int = 64, channels: int = 3):
        super().__init__()
        w = width
        layers = [nn.Conv2d(channels, w, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True), *_d_block(w, w, 2)]
        for cin, cout in ((w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)):
            layers += _d_block(cin, cout, 1) + _d_block(cout, cout, 2)
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(4))
        self.head = nn.Sequential(Flatten(), nn.Linear(8 * w * 16, 16 * w), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(16 * w, 1))

    def forward(self, x: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        return {"adv": self.head(self.features(x))}


@register("srresnet", kind="sr", summary="SRResNet: residual generator with sub-pixel x2/x4 upsampling, "
          "trained on pixel loss (Ledig et al. 2017)", example=dict(scale=4, blocks=16, width=64))
def build_srresnet(scale: int = 4, blocks: int = 16, width: int = 64, bn: bool = False, image_skip: bool = True,
                   d_width: int = 64) -> SRResNet:
    return SRResNet(scale, blocks, width, bn, image_skip)


@register("srgan", kind="sr", summary="SRGAN: the SRResNet generator + conv discriminator, content + "
          "1e-3 adversarial loss", example=dict(scale=4, blocks=16, width=64))
def build_srgan(scale: int = 4, blocks: int = 16, width: int = 64, bn: bool = False, image_skip: bool = True,
                d_width: int = 64) -> tuple[SRResNet, SRDiscriminator]:
    return SRResNet(scale, blocks, width, bn, image_skip), SRDiscriminator(d_width)
