"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of generators.

The pyramid of an image x: l_0 = x, l_{k+1} = d(l_k) (2x2 average), and the band-pass bands
h_k = l_k - u(l_{k+1}) (u: bilinear x2) with the coarsest level l_K kept as it is; adding the
bands back, l_k = u(l_{k+1}) + h_k, gives x again. Sides: halved while even and at least 7 stays,
so 28 -> 14 -> 7, 32 -> 16 -> 8 and 64 -> 32 -> 16 -> 8.

G_K is an unconditional conv GAN at the coarsest level; each finer G_k is a conditional conv GAN
that draws the band h_k given the upsampled coarser image u(l_{k+1}) (its c) and a noise plane
made from z; D_k judges (band, u(l_{k+1})). As in the paper every level trains on the real
pyramid: G_k's condition is the real coarser level, so the levels train independently (their
losses are summed, one "adv_level{k}" head each). Sampling runs coarse to fine on G's own output.

On the GAN contract: G(z, c=None) samples coarse to fine -> (N, C, H, W); G(z, c=x_real) gives the
training view, every level conditioned on x_real's pyramid, packed into one tensor
(N, C * L, H, W) (see pack). D(x, c) takes a packed or a plain image, conditioned on the pyramid
of c (or of x itself when c is None) -> {"adv_level0": (N,), ..., "adv_level{K}": (N,)}.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import UserError
from ..nn import init_normal
from .family import Family, Hooks
from .registry import register


def level_sides(size: int) -> list[int]:
    """Image sides from fine to coarse: 28 -> [28, 14, 7], 32 -> [32, 16, 8]."""
    sides = [size]
    while sides[-1] % 2 == 0 and sides[-1] // 2 >= 7:
        sides.append(sides[-1] // 2)
    if len(sides) < 2:
        raise UserError(f"lapgan needs an even image side of at least 14 (28, 32, 64, ...), got {size}")
    return sides


def down(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H/2, W/2): the 2x2 average."""
    return F.avg_pool2d(x, 2)


def up(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W), bilinear."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def gaussian_levels(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    """[l_0 = x, l_1, ..., l_{n-1}], each half the side of the previous."""
    levels = [x]
    for _ in range(n - 1):
        levels.append(down(levels[-1]))
    return levels


def laplacian_bands(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    """[h_0, ..., h_{n-2}, l_{n-1}]: the band-pass residuals, then the coarsest image."""
    levels = gaussian_levels(x, n)
    return [levels[k] - up(levels[k + 1]) for k in range(n - 1)] + [levels[-1]]


def reconstruct(bands: list[torch.Tensor]) -> torch.Tensor:
    """laplacian_bands' inverse: l_k = up(l_{k+1}) + h_k from the coarsest level down to l_0."""
    x = bands[-1]
    for h in reversed(bands[:-1]):
        x = up(x) + h
    return x


def pack(levels: list[torch.Tensor]) -> torch.Tensor:
    """Levels [(N, C, S / 2**k, S / 2**k)] -> (N, C * L, S, S), each repeated (nearest) to the full side."""
    return torch.cat([lv.repeat_interleave(2 ** k, 2).repeat_interleave(2 ** k, 3) for k, lv in enumerate(levels)], 1)


def unpack(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    """pack's exact inverse (every 2**k-th pixel of channel group k)."""
    c = x.shape[1] // n
    return [x[:, k * c:(k + 1) * c, :: 2 ** k, :: 2 ** k] for k in range(n)]


class BandGenerator(nn.Module):
    """z (N, latent), cond u(l_{k+1}) (N, C, S, S) -> band h_k (N, C, S, S); z enters as one noise plane."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.side = side
        self.noise = nn.Linear(latent_dim, side * side)
        self.net = nn.Sequential(
            nn.Conv2d(channels + 1, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, channels, 3, 1, 1))

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        plane = self.noise(z).view(-1, 1, self.side, self.side).to(cond.dtype)
        return self.net(torch.cat([cond, plane], 1))


class BandDiscriminator(nn.Module):
    """(band (N, C, S, S), cond (N, C, S, S)) -> logits (N,); strided convs down to a side of 8 or less."""

    def __init__(self, channels: int, side: int, width: int):
        super().__init__()
        layers, ch, s = [nn.Conv2d(2 * channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True)], width, side
        while s > 8:
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch, s = ch * 2, s // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * s * s, 1))

    def forward(self, band: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([band, cond], 1)).flatten()


class CoarseGenerator(nn.Module):
    """z (N, latent) -> the coarsest level (N, C, S, S): a linear map to a (2 width, S, S) map, then
    convs at that side (a small conv GAN: the paper's MLP collapsed to a few blobs here)."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.side, self.ch = side, 2 * width
        self.fc = nn.Sequential(nn.Linear(latent_dim, self.ch * side * side), nn.BatchNorm1d(self.ch * side * side),
                                nn.ReLU(True))
        self.net = nn.Sequential(nn.Conv2d(self.ch, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
                                 nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, self.ch, self.side, self.side))


class CoarseDiscriminator(nn.Module):
    """The coarsest level (N, C, S, S) -> logits (N,): two convs, then a linear head."""

    def __init__(self, channels: int, side: int, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2, True), nn.Flatten(),
                                 nn.Dropout(0.5), nn.Linear(2 * width * side * side, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class LapGenerator(nn.Module):
    """The pyramid of generators: index 0 is the finest level, L - 1 the coarsest."""

    def __init__(self, image_shape, latent_dim: int = 100, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        self.sides = level_sides(size)
        coarse = self.sides[-1]
        self.coarse = CoarseGenerator(c, coarse, latent_dim, width)
        self.bands = nn.ModuleList(BandGenerator(c, s, latent_dim, width) for s in self.sides[:-1])
        init_normal(self)

    def _coarse(self, z: torch.Tensor) -> torch.Tensor:
        return self.coarse(z)

    def levels(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Sampling coarse to fine: [l_K (coarsest), ..., l_0 (N, C, H, W)], each clamped to [-1, 1]."""
        out = [self._coarse(z)]
        for k in reversed(range(len(self.bands))):
            u = up(out[-1])
            out.append((u + self.bands[k](z, u)).clamp(-1, 1))
        return out

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if c is None:
            return self.levels(z)[-1]
        real = gaussian_levels(c, len(self.sides))
        fakes = []
        for k, g in enumerate(self.bands):
            u = up(real[k + 1])
            fakes.append(u + g(z, u))   # the level image; D reads its band back as fake - u
        return pack(fakes + [self._coarse(z)])


class LapDiscriminator(nn.Module):
    """One D per level: CoarseDiscriminator at the coarsest, BandDiscriminator at every finer level."""

    def __init__(self, image_shape, width: int = 64):
        super().__init__()
        c, size, _ = image_shape
        self.channels, self.sides = c, level_sides(size)
        coarse = self.sides[-1]
        self.coarse = CoarseDiscriminator(c, coarse, width)
        self.bands = nn.ModuleList(BandDiscriminator(c, s, width) for s in self.sides[:-1])
        init_normal(self)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        n = len(self.sides)
        levels = unpack(x, n) if x.shape[1] == self.channels * n else gaussian_levels(x, n)
        cond = levels if c is None else gaussian_levels(c, n)
        out = {}
        for k, d in enumerate(self.bands):
            u = up(cond[k + 1])
            out[f"adv_level{k}"] = d(levels[k] - u, u)
        out[f"adv_level{n - 1}"] = self.coarse(levels[-1])
        return out


class LAPGANHooks(Hooks):
    """Every level trains on the real pyramid: D sees the packed real pyramid, and the condition of
    G and D is the real image itself, whose pyramid gives each finer level its upsampled coarser
    image. Its extra sample view is the pyramid, coarse to fine."""

    @classmethod
    def check(cls, cfg) -> None:
        if cfg.augment != "none":   # D's input is a packed pyramid: image augmentations would mix its levels
            raise UserError("lapgan trains without --augment (its discriminators read packed pyramid levels)")

    def real_view(self, x, y):
        """(packed real pyramid (N, C * L, H, W), the real images as D's condition and as G's)."""
        return pack(gaussian_levels(x, len(level_sides(x.shape[-1])))), x, x

    def views(self):
        return {"levels": lambda net, z: net.levels(z)}


@register("lapgan", kind="gan", summary="LAPGAN (Denton et al.): a Laplacian pyramid of conditional GANs, "
          "28 -> 14 -> 7 or 32 -> 16 -> 8", example=dict(image_shape=(1, 28, 28)),
          family=Family(hooks=LAPGANHooks, tiny=dict(data="synthetic:1x28x28:16"),
                        min_side=14))   # halved while even and the half stays >= 7
def build(image_shape, latent_dim: int = 100, width: int = 64):
    c, h, w = image_shape
    if h != w:
        raise UserError(f"lapgan needs square images, got {h}x{w}; set --image-size")
    return LapGenerator(image_shape, latent_dim, width), LapDiscriminator(image_shape, width)
