"""Convolution blocks with reflection padding and instance norm (the CycleGAN building set).

Instance norm is used without affine parameters and without running statistics, as in the
CycleGAN reference implementation: every image is normalised by its own statistics, in training
and at test time alike. Convolutions keep their bias (the norm has no shift of its own).
"""
from __future__ import annotations

import torch
import torch.nn as nn

NORMS = ("instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose from {NORMS}")


def conv_block(cin: int, cout: int, kernel: int, stride: int = 1, norm: str = "instance",
               act: str = "relu", reflect: bool = False) -> nn.Sequential:
    """conv (zero or reflection padding of kernel//2) -> norm -> ReLU / LeakyReLU(0.2) / none.

    The paper's c7s1-k is conv_block(cin, k, 7, reflect=True) and dk is conv_block(cin, k, 3, 2).
    """
    pad = kernel // 2
    layers: list[nn.Module] = []
    if reflect:
        layers += [nn.ReflectionPad2d(pad), nn.Conv2d(cin, cout, kernel, stride)]
    else:
        layers.append(nn.Conv2d(cin, cout, kernel, stride, padding=pad))
    layers.append(norm_layer(norm, cout))
    if act == "relu":
        layers.append(nn.ReLU(inplace=True))
    elif act == "lrelu":
        layers.append(nn.LeakyReLU(0.2, inplace=True))
    elif act != "none":
        raise ValueError(f"unknown activation {act!r}")
    return nn.Sequential(*layers)


UPSAMPLES = ("deconv", "resize")


def up_block(cin: int, cout: int, norm: str = "instance", upsample: str = "deconv") -> nn.Sequential:
    """The paper's uk, (N, cin, H, W) -> (N, cout, 2H, 2W), then norm and ReLU.

    deconv: the paper's 3x3 fractionally strided conv (stride 1/2). Its kernel overlaps unevenly
    (output pixels alternately get 2 and 1 taps per axis), the source of checkerboard artefacts.
    resize: nearest-neighbour 2x resize, then a reflection-padded 3x3 conv (Odena et al. 2016,
    "Deconvolution and Checkerboard Artifacts"): every output pixel gets the same taps.
    """
    if upsample == "deconv":
        up = [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)]
    elif upsample == "resize":
        up = [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
    else:
        raise ValueError(f"unknown upsample {upsample!r}; choose from {UPSAMPLES}")
    return nn.Sequential(*up, norm_layer(norm, cout), nn.ReLU(inplace=True))


class ResnetBlock(nn.Module):
    """The paper's Rk: x + (reflect-pad, 3x3 conv, norm, ReLU, reflect-pad, 3x3 conv, norm)(x).

    (N, dim, H, W) -> (N, dim, H, W).
    """

    def __init__(self, dim: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(conv_block(dim, dim, 3, norm=norm, reflect=True),
                                  conv_block(dim, dim, 3, norm=norm, act="none", reflect=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
