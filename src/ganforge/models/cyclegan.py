"""CycleGAN networks (Zhu et al. 2017, appendix 7.2), as in the reference implementation.

    resnet-6 / resnet-9 generator: c7s1-64, d128, d256, R256 x 6 or 9, u128, u64, c7s1-3, tanh
    patchgan discriminator:        C64-C128-C256-C512, then a 1-channel 4x4 conv (70x70 patches)

Weights are initialised N(0, 0.02), biases 0.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..nn import init_normal
from ..nn.blocks import ResnetBlock, conv_block, norm_layer, up_block
from .registry import register


class ResnetGenerator(nn.Module):
    """(N, in_channels, H, W) in [-1, 1] -> (N, out_channels, H, W) in [-1, 1]; H and W multiples of 4.

    upsample: "deconv" (the paper's transposed convolutions) or "resize" (nearest resize + conv).
    skip: "none" (the paper's) or "input": the last c7s1-3 convolution also sees the input image at
    full resolution (its channels concatenated to u64's), a one-level U-Net link (Ronneberger et
    al. 2015) that lets the translation keep the input's fine detail, which the paper's nets must
    carry through the stride-4 bottleneck.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, blocks: int = 9,
                 norm: str = "instance", upsample: str = "deconv", skip: str = "none"):
        super().__init__()
        if skip not in SKIPS:
            raise ValueError(f"unknown skip {skip!r}; choose from {SKIPS}")
        w = width
        body = [
            conv_block(in_channels, w, 7, norm=norm, reflect=True),        # c7s1-64
            conv_block(w, 2 * w, 3, stride=2, norm=norm),                  # d128
            conv_block(2 * w, 4 * w, 3, stride=2, norm=norm),              # d256
            *[ResnetBlock(4 * w, norm) for _ in range(blocks)],            # R256 x blocks
            up_block(4 * w, 2 * w, norm, upsample),                        # u128
            up_block(2 * w, w, norm, upsample),                            # u64
        ]
        extra = in_channels if skip == "input" else 0
        head = [nn.ReflectionPad2d(3), nn.Conv2d(w + extra, out_channels, 7), nn.Tanh()]   # c7s1-3
        # The paper's layout stays one Sequential, so the reference implementation's weights map
        # onto it index for index (use/import_cyclegan.py).
        self.skip = skip
        if skip == "none":
            self.net = nn.Sequential(*body, *head)
        else:
            self.net, self.head = nn.Sequential(*body), nn.Sequential(*head)
        # Input pixels on each side that can reach one output pixel, rounded up to the stride 4:
        # 3 (c7) + 1 + 2 (d) + 2 * 4 per residual block (at stride 4) + 4 + 2 (u) + 3 (c7), +2 spare.
        self.context = 4 * -(-(18 + 8 * blocks) // 4)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip == "none":
            return self.net(x)
        return self.head(torch.cat([self.net(x), x], 1))


class PatchDiscriminator(nn.Module):
    """(N, in_channels, H, W) -> (N, 1, H/8 - 2, W/8 - 2) raw scores (H, W multiples of 8), one per
    70x70 input patch.

    Output pixel (i, j) sees input rows 8i-23 .. 8i+46 (and the same for columns): three stride-2
    and two stride-1 4x4 convolutions, each zero-padded by 1.
    """

    receptive_field = 70
    stride = 8
    offset = 23

    def __init__(self, in_channels: int = 3, width: int = 64, layers: int = 3, norm: str = "instance"):
        super().__init__()
        w = width
        seq = [nn.Conv2d(in_channels, w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]   # C64, no norm
        mult = 1
        for n in range(1, layers + 1):   # C128, C256 (stride 2), C512 (stride 1)
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(w * prev, w * mult, 4, 2 if n < layers else 1, 1),
                    norm_layer(norm, w * mult), nn.LeakyReLU(0.2, inplace=True)]
        seq.append(nn.Conv2d(w * mult, 1, 4, 1, 1))
        self.net = nn.Sequential(*seq)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


SKIPS = ("none", "input")
_SHAPE = dict(in_channels=3, out_channels=3, width=64)


@register("resnet-9", kind="translator", summary="CycleGAN generator, 9 residual blocks (256 px images)",
          example=_SHAPE)
def resnet9(in_channels: int = 3, out_channels: int = 3, width: int = 64, norm: str = "instance",
            upsample: str = "deconv", skip: str = "none"):
    return ResnetGenerator(in_channels, out_channels, width, blocks=9, norm=norm, upsample=upsample, skip=skip)


@register("resnet-6", kind="translator", summary="CycleGAN generator, 6 residual blocks (128 px images)",
          example=_SHAPE)
def resnet6(in_channels: int = 3, out_channels: int = 3, width: int = 64, norm: str = "instance",
            upsample: str = "deconv", skip: str = "none"):
    return ResnetGenerator(in_channels, out_channels, width, blocks=6, norm=norm, upsample=upsample, skip=skip)


@register("patchgan", kind="discriminator", summary="70x70 PatchGAN discriminator (C64-C128-C256-C512)",
          example=dict(in_channels=3, width=64))
def patchgan(in_channels: int = 3, width: int = 64, norm: str = "instance"):
    return PatchDiscriminator(in_channels, width, layers=3, norm=norm)
