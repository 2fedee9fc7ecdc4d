"""Super-resolution scores in the published convention (SRCNN, SRGAN, EDSR, ...): PSNR and SSIM on
the luminance Y of ITU-R BT.601 (MATLAB's rgb2ycbcr: 16..235) with `scale` pixels cropped from
every border, and the same on the RGB channels for comparison. Both on uint8 images."""
from __future__ import annotations

import torch

from .translation import psnr, ssim

_Y = torch.tensor([65.481, 128.553, 24.966]) / 255


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float (N, 1, H, W) Y in 16..235."""
    return 16 + (rgb.float() * _Y.view(1, 3, 1, 1)).sum(1, keepdim=True)


def sr_scores(sr: torch.Tensor, hr: torch.Tensor, border: int) -> dict[str, float]:
    """uint8 (1, 3, H, W) pair -> {psnr_y, ssim_y, psnr_rgb, ssim_rgb}, `border` px cropped on each side."""
    if border:
        sr, hr = (x[..., border:-border, border:-border] for x in (sr, hr))
    y_sr, y_hr = luminance(sr), luminance(hr)
    a, b = sr.float(), hr.float()
    return {"psnr_y": psnr(y_sr, y_hr, 255.0).item(), "ssim_y": ssim(y_sr, y_hr, 255.0).item(),
            "psnr_rgb": psnr(a, b, 255.0).item(), "ssim_rgb": ssim(a, b, 255.0).item()}


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each score over images (PSNR averaged in dB, as the SR papers do)."""
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
