"""CNN classifiers: blocks of convolution -> (BatchNorm) -> ReLU -> max pooling, then flatten,
fully connected layers and a softmax head (the softmax itself lives in the loss / predict).

Split as in timm: forward_features(x) -> last conv map, forward_head(map, pre_logits=False) ->
logits, or with pre_logits=True the hidden vector that classifier-FID uses as its embedding.
`stages` is an nn.ModuleList, one entry per conv stage, so feature maps can be shown stage by stage.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import UserError
from .registry import register


def conv_block(cin: int, cout: int, convs: int = 1) -> nn.Sequential:
    """`convs` 3x3 same-padded convolutions (each + BN + ReLU), then 2x2 max pooling: halves H, W."""
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False),
                   nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class ConvClassifier(nn.Module):
    """(N, C, S, S) in [-1, 1] -> logits (N, num_classes).

    widths: output channels of each stage; convs: 3x3 convolutions per stage.
    """

    def __init__(self, in_channels: int, image_size: int, num_classes: int, widths: list[int],
                 convs: int = 1, hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        if image_size < 2 ** len(widths):
            raise UserError(f"this classifier pools {len(widths)} times and needs images of at least "
                            f"{2 ** len(widths)} px, got {image_size}; pass --image-size {2 ** len(widths)} or more")
        if num_classes < 2:
            raise UserError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.in_channels, self.image_size, self.num_classes = in_channels, image_size, num_classes
        chans = [in_channels] + list(widths)
        self.stages = nn.ModuleList(conv_block(a, b, convs) for a, b in zip(chans, chans[1:]))
        side = image_size // 2 ** len(widths)
        self.num_features = hidden
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(chans[-1] * side * side, hidden), nn.ReLU(inplace=True),
                                    nn.Dropout(dropout))
        self.fc = nn.Linear(hidden, num_classes)

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output map of every stage: [(N, widths[i], S / 2**(i+1), ...)]."""
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return maps

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, S, S) -> last conv map (N, widths[-1], S / 2**stages, ...)."""
        for stage in self.stages:
            x = stage(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Last conv map -> logits (N, num_classes), or the hidden vector (N, hidden) if pre_logits."""
        x = self.hidden(x)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register("cnn-small", kind="classifier", summary="3 conv-ReLU-pool stages + FC 128; MNIST-size images (>= 98% on mnist5k)",
          example=dict(in_channels=1, image_size=28))
def build_small(in_channels: int = 1, image_size: int = 28, num_classes: int = 10, width: int = 16,
                hidden: int = 128, dropout: float = 0.25) -> ConvClassifier:
    return ConvClassifier(in_channels, image_size, num_classes, [width, 2 * width, 4 * width], 1, hidden, dropout)


@register("cnn-cifar", kind="classifier", summary="VGG-style: 3 stages of 2 convs + pool, FC 256; for CIFAR-10",
          example=dict(in_channels=3, image_size=32))
def build_cifar(in_channels: int = 3, image_size: int = 32, num_classes: int = 10, width: int = 32,
                hidden: int = 256, dropout: float = 0.4) -> ConvClassifier:
    return ConvClassifier(in_channels, image_size, num_classes, [width, 2 * width, 4 * width], 2, hidden, dropout)
