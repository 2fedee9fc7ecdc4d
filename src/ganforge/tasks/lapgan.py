"""LAPGAN training and its level panel. Every level trains on the real pyramid (models/lapgan.py):
the real batch D sees is the packed pyramid of real images, and the condition c of G and D is the
real image itself, whose pyramid gives each finer level its upsampled coarser image."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import UserError
from ..models.lapgan import gaussian_levels, level_sides, pack
from ..nn import eval_mode
from .gan.objective import GANObjective


class LAPGANObjective(GANObjective):
    """GANObjective's step with (packed real pyramid, real image) as the real batch and the same real
    image as every generated batch's condition."""

    def __init__(self, cfg, rt=None, data=None):
        if cfg.augment != "none":   # D's input is a packed pyramid: image augmentations would mix its levels
            raise UserError("lapgan trains without --augment (its discriminators read packed pyramid levels)")
        super().__init__(cfg, rt, data)
        self.num_levels = len(level_sides(self.image_shape[1]))
        self._cond = None

    def real_batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(packed real pyramid (N, C * L, H, W), the real images (N, C, H, W) as the condition)."""
        x, _ = super().real_batch(index)
        self._cond = x
        return pack(gaussian_levels(x, self.num_levels)).contiguous(memory_format=self.memory_format), x

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """z, and the last real batch as c: G_k draws its band on the real coarser level."""
        return torch.randn(n, self.cfg.latent_dim, device=self.rt.device), self._cond


@torch.no_grad()
def level_panel(gen, n: int = 8, seed: int = 0) -> torch.Tensor:
    """Samples coarse to fine: one row per level (coarsest first), n columns, every level scaled
    (nearest) to the full side -> (L * n, C, H, W)."""
    net = gen.net
    if not hasattr(net, "levels"):
        raise UserError(f"{gen.path} is a {gen.config.model}: --show-levels needs a lapgan checkpoint")
    z = torch.randn(n, gen.latent_dim, generator=torch.Generator().manual_seed(seed))
    with eval_mode(net):
        levels = net.levels(z.to(next(net.parameters()).device))
    size = gen.image_shape[1:]
    return torch.cat([F.interpolate(lv.float().cpu(), size=size, mode="nearest") for lv in levels])
