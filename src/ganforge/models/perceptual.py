"""Content losses for super-resolution: pixel MSE / L1, or the distance between feature maps of a
fixed network (SRGAN's perceptual loss).

    vgg54 / vgg22   VGG-19 (Simonyan & Zisserman 2015) ImageNet features after the 4th conv of
                    block 5 (before the 5th pooling) / the 2nd conv of block 2, ReLU included, as
                    SRGAN's phi_5,4 and phi_2,2; maps scaled by 1/12.75 as in the paper. The net is
                    written here (no torchvision); its weights are torchvision's file VGG19_URL,
                    cached at vgg19_path() (SHA-256 checked against the prefix in its name).
    cnn             the shipped mnist5k classifier's first two conv stages on the luminance, plus
                    pixel MSE (its features know no colour and were learned on digits, so the
                    pixels keep the colours and the overall image in place)
    mse, l1         pixel losses (SRResNet)

Every feature net is frozen and kept in eval mode (its batch norms use their running statistics).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import UserError

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbffe9f.pth"
VGG19_SHA256_PREFIX = "dcbffe9f"
CONTENT = ("auto", "vgg54", "vgg22", "cnn", "mse", "l1")
# VGG-19's conv widths, "M" a 2x2 max pool: torchvision's `features` indices follow this list.
_VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
_VGG_LAYERS = {"vgg22": 9, "vgg54": 36}   # features[:n] ends after relu2_2 / relu5_4
_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def vgg19_path() -> Path:
    from ..files import cache_dir

    return cache_dir() / "vgg" / Path(VGG19_URL).name


def vgg19_features(layers: int = 36) -> nn.Sequential:
    """VGG-19's `features` up to index `layers` (36: through relu5_4): (N, 3, H, W) -> maps."""
    mods: list[nn.Module] = []
    cin = 3
    for v in _VGG19:
        if v == "M":
            mods.append(nn.MaxPool2d(2, 2))
        else:
            mods += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*mods[:layers])


def load_vgg19(layers: int, download: bool) -> nn.Sequential:
    """The ImageNet VGG-19 features from the cache (downloading them first when `download`)."""
    from ..data.download import fetch, sha256sum

    path = vgg19_path()
    if not path.is_file():
        if not download:
            raise UserError(f"the VGG-19 weights are not at {path}; pass --content vgg54 to download {VGG19_URL} "
                            "(548 MB) or place that file there")
        fetch(VGG19_URL, path, None)
    if not sha256sum(path).startswith(VGG19_SHA256_PREFIX):
        raise UserError(f"{path} is not torchvision's VGG-19 file (its SHA-256 does not start with "
                        f"{VGG19_SHA256_PREFIX}); delete it and download {VGG19_URL} again")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = vgg19_features(layers)
    prefix = "features."
    net.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                         if k.startswith(prefix) and int(k.split(".")[1]) < layers})
    return net


class ContentLoss(nn.Module):
    """loss(sr, hr): both (N, 3, H, W) in [-1, 1] -> scalar. `kind` one of CONTENT minus auto;
    `name` says what it is, for the run log."""

    def __init__(self, kind: str, net: nn.Module | None = None, name: str = ""):
        super().__init__()
        self.kind, self.name = kind, name or kind
        self.net = None if net is None else net.eval().requires_grad_(False)

    def train(self, mode: bool = True):   # the feature net stays in eval mode
        super().train(mode)
        if self.net is not None:
            self.net.eval()
        return self

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.kind.startswith("vgg"):
            mean, std = (torch.tensor(v, device=x.device).view(1, 3, 1, 1) for v in (_MEAN, _STD))
            return [self.net(((x + 1) / 2 - mean) / std) / 12.75]
        y = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        maps = []
        for stage in self.net:
            y = stage(y)
            maps.append(y)
        return maps

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        sr, hr = sr.float(), hr.float()
        if self.kind == "l1":
            return (sr - hr).abs().mean()
        pixel = F.mse_loss(sr, hr)
        if self.kind == "mse":
            return pixel
        feats = sum(F.mse_loss(a, b) for a, b in zip(self.features(sr), self.features(hr)))
        return feats if self.kind.startswith("vgg") else pixel + feats


def content_loss(kind: str, log=print) -> ContentLoss:
    """The content loss `kind`. auto: VGG-19 phi_5,4 when its weights are in the cache, else the
    shipped classifier's features. vgg54 / vgg22 download the weights when missing; offline, the
    message says how to get them and the shipped classifier's features are used instead."""
    if kind in ("mse", "l1"):
        return ContentLoss(kind, name=f"pixel {kind.upper()}")
    if kind == "auto" or kind.startswith("vgg"):
        layer = "vgg22" if kind == "vgg22" else "vgg54"
        try:
            net = load_vgg19(_VGG_LAYERS[layer], download=kind != "auto")
            return ContentLoss(layer, net, f"VGG-19 phi_{layer[3]},{layer[4]} (ImageNet weights, {vgg19_path()})")
        except UserError as e:
            log(f"content loss: VGG-19 unavailable ({e}); using the shipped mnist5k classifier's features instead")
    from ..nn import checkpoint
    from .evaluators import EMBEDDED, Classifier

    clf = Classifier(checkpoint.load(EMBEDDED, "classifier"))
    return ContentLoss("cnn", nn.Sequential(*clf.net.stages[:2]),
                       "pixel MSE + the shipped cnn-small@mnist5k classifier's conv features of the luminance")
