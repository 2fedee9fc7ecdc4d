"""Differentiable augmentation of the images D sees, real and generated alike, so a discriminator
trained on a few thousand images cannot simply memorise them.

DiffAugment (Zhao et al. 2020): colour (brightness, saturation, contrast), translation by up to
1/8 of the side with zero fill, and cutout of a square half the side, every op differentiable in
the image so G's gradient passes through. `ada` (Karras et al. 2020) applies each op to an image
with probability p and adapts p from D's overfitting signal r = E[sign(D(real))]: p rises while
r is above the target (0.6) and falls below it.

All randomness comes from an explicit torch.Generator, so passing the same generator state to
the real and the fake branch augments them identically when asked.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

OPS = ("color", "translation", "cutout")


def _mask(n: int, p: float, device, g) -> torch.Tensor:
    """(n, 1, 1, 1) float: 1 for the images an op applies to (each with probability p)."""
    if p >= 1:
        return torch.ones(n, 1, 1, 1, device=device)
    return (torch.rand(n, 1, 1, 1, device=device, generator=g) < p).float()


def color(x: torch.Tensor, p: float = 1.0, g=None) -> torch.Tensor:
    """Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (images in [-1, 1])."""
    n, dev = x.shape[0], x.device
    m = _mask(n, p, dev, g)
    x = x + m * (torch.rand(n, 1, 1, 1, device=dev, generator=g) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(1, keepdim=True)
        x = mean + (x - mean) * (1 + m * (torch.rand(n, 1, 1, 1, device=dev, generator=g) * 2 - 1))
    mean = x.mean((1, 2, 3), keepdim=True)
    return mean + (x - mean) * (1 + m * (torch.rand(n, 1, 1, 1, device=dev, generator=g) - 0.5))


def translation(x: torch.Tensor, p: float = 1.0, g=None, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio * side pixels in each direction, zero-filled (a gather, so
    the gradient flows to the kept pixels)."""
    n, c, h, w = x.shape
    dev = x.device
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    m = _mask(n, p, dev, g).view(n, 1, 1).long()
    ty = torch.randint(-sy, sy + 1, (n, 1, 1), device=dev, generator=g) * m
    tx = torch.randint(-sx, sx + 1, (n, 1, 1), device=dev, generator=g) * m
    rows = (torch.arange(h, device=dev).view(1, h, 1) + ty + 1).clamp(0, h + 1)   # +1: the zero border
    cols = (torch.arange(w, device=dev).view(1, 1, w) + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)                           # (n, h+2, w+2, c)
    out = padded[torch.arange(n, device=dev).view(n, 1, 1), rows, cols]            # (n, h, w, c)
    return out.permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, p: float = 1.0, g=None, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ratio * side centred at a random pixel of each image (clipped at the border)."""
    n, _, h, w = x.shape
    dev = x.device
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h, (n, 1, 1), device=dev, generator=g) - ch // 2
    left = torch.randint(0, w, (n, 1, 1), device=dev, generator=g) - cw // 2
    ys, xs = torch.arange(h, device=dev).view(1, h, 1), torch.arange(w, device=dev).view(1, 1, w)
    hole = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (1 - hole[:, None].to(x.dtype) * _mask(n, p, dev, g))


def warp(x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate each image by angle (N,) radians, zoom it by scale (N,) and move it by shift (N, 2)
    (x, y, in units of the half side) about its centre; bilinear, the background (-1) fills in."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, -shift[:, 0]], 1), torch.stack([sin, cos, -shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, padding_mode="zeros", align_corners=False) - 1


def random_warp(x: torch.Tensor, degrees: float, g=None, scale: float = 0.1, shift: float = 0.15) -> torch.Tensor:
    """warp() by a random rotation in +-degrees, zoom in 1 +- scale and shift in +-shift per image."""
    n, dev = x.shape[0], x.device
    u = torch.rand(n, 4, device=dev, generator=g) * 2 - 1
    return warp(x, u[:, 0] * math.radians(degrees), 1 + u[:, 1] * scale, u[:, 2:] * shift)


FUNCS = {"color": color, "translation": translation, "cutout": cutout}


def augment(x: torch.Tensor, p: float = 1.0, ops=OPS, g: torch.Generator | None = None) -> torch.Tensor:
    """Apply each op in `ops` to each image with probability p. (N, C, H, W) -> (N, C, H, W)."""
    for name in ops:
        x = FUNCS[name](x, p, g)
    return x


class AdaptiveP:
    """ADA's augmentation probability: every `interval` steps, p moves by sign(r - target) times
    batch * interval / speed_images, where r = E[sign(D(real))] over those steps; p stays in [0, 1)."""

    def __init__(self, target: float = 0.6, speed_images: int = 20_000, interval: int = 4, p: float = 0.0):
        self.target, self.speed, self.interval, self.p = target, speed_images, interval, p
        self._sum, self._count, self._steps = 0.0, 0, 0

    def observe(self, real_logits: torch.Tensor, batch: int) -> None:
        self._sum += torch.sign(real_logits.detach().float()).sum().item()
        self._count += real_logits.numel()
        self._steps += 1
        if self._steps >= self.interval:
            r = self._sum / max(self._count, 1)
            step = batch * self._steps / self.speed
            self.p = min(max(self.p + (step if r > self.target else -step), 0.0), 0.99)
            self._sum, self._count, self._steps = 0.0, 0, 0

    def state(self) -> dict:
        return {"p": self.p, "sum": self._sum, "count": self._count, "steps": self._steps}

    def load(self, state: dict) -> None:
        self.p, self._sum, self._count, self._steps = state["p"], state["sum"], state["count"], state["steps"]
