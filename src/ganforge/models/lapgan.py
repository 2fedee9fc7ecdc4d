"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of generators.

The pyramid of an image x: l_0 = x, l_{k+1} = d(l_k) (2x2 average), and the band-pass bands
h_k = l_k - u(l_{k+1}) (u: bilinear x2) with the coarsest level l_K kept as it is; adding the
bands back, l_k = u(l_{k+1}) + h_k, gives x again. Sides: halved while even and the coarsest side
stays at least 7 (--pyramid paper: 28 -> 14 -> 7, 32 -> 16 -> 8) or 14 (--pyramid light: 28 -> 14,
64 -> 32 -> 16).

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

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config.base import opt
from ..errors import UserError
from ..nn import Flatten, init_normal
from . import lapgan_paper as paper
from .family import Family, Hooks
from .registry import register


COARSEST = {"paper": 7, "light": 14}   # the coarsest level's least side per --pyramid


def level_sides(size: int, pyramid: str = "paper") -> list[int]:
    """Image sides from fine to coarse. paper: 28 -> [28, 14, 7], 32 -> [32, 16, 8]; light (a 7 px
    digit is a blob the next band could not shape): 28 -> [28, 14], 64 -> [64, 32, 16]."""
    least = COARSEST[pyramid]
    sides = [size]
    while sides[-1] % 2 == 0 and sides[-1] // 2 >= least:
        sides.append(sides[-1] // 2)
    if len(sides) < 2:
        raise UserError(f"lapgan --pyramid {pyramid} needs an even image side of at least {2 * least} "
                        f"(28, 32, 64, ...), got {size}")
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


def band_width(width: int, k: int, levels: int) -> int:
    """Channels of level k's band nets (0: the finest): half --width next to the coarsest level,
    halved again at each finer one (at least 8). Bands are thin strokes on a given coarse image and
    need little capacity, while a level's cost grows with its area: a full-width band at 28 px cost
    more than all of DCGAN."""
    return max(8, width // 2 ** (levels - 1 - k))


BAND_EVERY = 3   # a band level trains on every third D update, the coarsest level on every one


class LevelSchedule:
    """Which levels a training pass runs, shared by a G and its D (per-level step budgets, which the
    levels' independence allows). The coarsest level trains on every D update, each band level on
    every BAND_EVERY-th: measured, the 28 px band drawn on real 14 px images is nearly perfect
    (classifier-FID 6.4-16) long before the coarse GAN is, so the compute goes to the coarse level."""

    def __init__(self, levels: int, every: int = BAND_EVERY):
        self.levels, self.every = levels, every
        self.on = tuple(range(levels))

    def at(self, update: int) -> tuple[int, ...]:
        """Set and return the levels of D update number `update` (the G updates after it train the same)."""
        self.on = tuple(range(self.levels)) if update % self.every == 0 else (self.levels - 1,)
        return self.on


class BandGenerator(nn.Module):
    """z (N, latent), cond u(l_{k+1}) (N, C, S, S) -> band h_k (N, C, S, S).

    The band is drawn at half the side and brought back by one transposed conv: a strided conv
    reads (cond, a noise plane made from z) down to S/2, two 3x3 convs work there, and the
    transposed conv writes the band at S. The convs at full side cost four times as much and made
    LAPGAN several times slower per step than DCGAN for no better samples."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.side = side
        self.noise = nn.Linear(latent_dim, side * side)
        self.net = nn.Sequential(
            nn.Conv2d(channels + 1, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(True),          # S/2
            nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1))                                            # S

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        plane = self.noise(z).view(-1, 1, self.side, self.side).to(cond.dtype)
        return self.net(torch.cat([cond, plane], 1))


class CoarseGenerator(nn.Module):
    """z (N, latent) -> the coarsest level (N, C, S, S), a small DCGAN generator: a linear map to a
    (2 width) map at S/2, one transposed conv to S, a 3x3 conv to the image (an odd S: the map at S
    and no transposed conv). The paper's MLP collapsed to a few blobs here."""

    def __init__(self, channels: int, side: int, latent_dim: int, width: int):
        super().__init__()
        self.base, self.ch = (side // 2 if side % 2 == 0 else side), 2 * width
        grow = ([nn.ConvTranspose2d(self.ch, width, 4, 2, 1, bias=False)] if self.base < side
                else [nn.Conv2d(self.ch, width, 3, 1, 1, bias=False)])
        self.fc = nn.Sequential(nn.Linear(latent_dim, self.ch * self.base ** 2), nn.BatchNorm1d(self.ch * self.base ** 2),
                                nn.ReLU(True))
        self.net = nn.Sequential(*grow, nn.BatchNorm2d(width), nn.ReLU(True),
                                 nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, self.ch, self.base, self.base))


class CoarseDiscriminator(nn.Module):
    """The coarsest level (N, C, S, S) -> logits (N,): a strided conv to S/2 (an even S), a 3x3 conv, a
    linear head."""

    def __init__(self, channels: int, side: int, width: int):
        super().__init__()
        even = side % 2 == 0
        s = side // 2 if even else side
        self.net = nn.Sequential(nn.Conv2d(channels, width, 4 if even else 3, 2 if even else 1, 1),
                                 nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2, True), Flatten(),
                                 nn.Linear(2 * width * s * s, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class LapGenerator(nn.Module):
    """The pyramid of generators: index 0 is the finest level, L - 1 the coarsest."""

    def __init__(self, image_shape, latent_dim: int = 100, width: int = 64, pyramid: str = "paper"):
        super().__init__()
        c, size, _ = image_shape
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        self.sides = level_sides(size, pyramid)
        n = len(self.sides)
        # the levels a training pass runs (LAPGANHooks sets it); paper: all of them, always
        self.schedule = LevelSchedule(n, BAND_EVERY if pyramid == "light" else 1)
        if pyramid == "light":
            # D updates so far: a buffer, so a resumed run picks up the schedule where it stopped
            self.register_buffer("d_updates", torch.zeros((), dtype=torch.long))
            self.coarse = CoarseGenerator(c, self.sides[-1], latent_dim, width)
            self.bands = nn.ModuleList(BandGenerator(c, s, latent_dim, band_width(width, k, n))
                                       for k, s in enumerate(self.sides[:-1]))
        else:
            self.coarse = paper.CoarseGenerator(c, self.sides[-1], latent_dim, width)
            self.bands = nn.ModuleList(paper.BandGenerator(c, s, latent_dim, width) for s in self.sides[:-1])
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
            if k not in self.schedule.on:   # resting this step: the real level stands in, D skips it
                fakes.append(real[k])
                continue
            u = up(real[k + 1])
            fakes.append(u + g(z, u))   # the level image; D reads its band back as fake - u
        return pack(fakes + [self._coarse(z)])


class LapDiscriminator(nn.Module):
    """One D per level: CoarseDiscriminator at the coarsest, BandDiscriminator at every finer level."""

    def __init__(self, image_shape, width: int = 64, pyramid: str = "paper"):
        super().__init__()
        c, size, _ = image_shape
        self.channels, self.sides = c, level_sides(size, pyramid)
        n = len(self.sides)
        self.schedule = LevelSchedule(n)   # build() shares G's
        if pyramid == "light":
            self.coarse = CoarseDiscriminator(c, self.sides[-1], width)
            self.bands = nn.ModuleList(paper.BandDiscriminator(c, s, band_width(width, k, n), first_stride=2)
                                       for k, s in enumerate(self.sides[:-1]))
        else:
            self.coarse = paper.CoarseDiscriminator(c, self.sides[-1], width)
            self.bands = nn.ModuleList(paper.BandDiscriminator(c, s, width) for s in self.sides[:-1])
        init_normal(self)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        n = len(self.sides)
        levels = unpack(x, n) if x.shape[1] == self.channels * n else gaussian_levels(x, n)
        cond = levels if c is None else gaussian_levels(c, n)
        out = {}
        for k, d in enumerate(self.bands):
            if k not in self.schedule.on:
                continue
            u = up(cond[k + 1])
            out[f"adv_level{k}"] = d(levels[k] - u, u)
        out[f"adv_level{n - 1}"] = self.coarse(levels[-1])
        return out


@dataclass
class LapSettings:
    pyramid: str = opt("paper", "the level nets: paper (the first ganforge LAPGAN: 7 px coarsest level for 28 px "
                       "images, band nets at full resolution) or light (14 px coarsest level, band nets at half "
                       "side and width, bands trained every third step; --preset lapgan-mnist)", ("paper", "light"))


class LAPGANHooks(Hooks):
    """Every level trains on the real pyramid: D sees the packed real pyramid, and the condition of
    G and D is the real image itself, whose pyramid gives each finer level its upsampled coarser
    image. Its extra sample view is the pyramid, coarse to fine."""

    @classmethod
    def check(cls, cfg) -> None:
        if cfg.augment != "none":   # D's input is a packed pyramid: image augmentations would mix its levels
            raise UserError("lapgan trains without --augment (its discriminators read packed pyramid levels)")

    def real_view(self, x, y):
        """(packed real pyramid (N, C * L, H, W), the real images as D's condition and as G's). Called
        once per D update: it also moves the level schedule G and D share to that update's levels."""
        if self.G is not None and hasattr(self.G, "d_updates"):
            self.G.schedule.at(int(self.G.d_updates))
            self.G.d_updates += 1
        return pack(gaussian_levels(x, len(level_sides(x.shape[-1], self.settings.pyramid)))), x, x

    def views(self):
        return {"levels": lambda net, z: net.levels(z)}


@register("lapgan", kind="gan", summary="LAPGAN (Denton et al.): a Laplacian pyramid of conditional GANs, "
          "28 -> 14 -> 7 (--pyramid light: 28 -> 14)", example=dict(image_shape=(1, 28, 28)),
          family=Family(settings=LapSettings, hooks=LAPGANHooks, tiny=dict(data="synthetic:1x28x28:16"),
                        min_side=14))   # paper: halved while even and the half stays >= 7 (light: 28)
def build(image_shape, latent_dim: int = 100, width: int = 64, pyramid: str = "paper"):
    c, h, w = image_shape
    if h != w:
        raise UserError(f"lapgan needs square images, got {h}x{w}; set --image-size")
    G, D = LapGenerator(image_shape, latent_dim, width, pyramid), LapDiscriminator(image_shape, width, pyramid)
    D.schedule = G.schedule   # one schedule: D judges exactly the levels G trained this pass
    return G, D
