"""Full-reference image metrics for translation: PSNR and SSIM on images in [-1, 1].

Both return one value per image (N,), so callers can average or inspect; data range is 2
(the [-1, 1] scale), which gives the same numbers as on uint8 images with range 255.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape or a.dim() != 4:
        raise ValueError(f"expected two (N, C, H, W) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image: 10 log10(range^2 / MSE). (N, C, H, W) x2 -> (N,).
    Identical images give inf."""
    _check(a, b)
    mse = (a.float() - b.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(data_range ** 2 / mse)


def _gaussian(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 2.0, window: int = 11,
         sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image, averaged over channels and positions:
    11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, 'valid' windows only. (N, C, H, W) x2 -> (N,).

    Images smaller than the window use a window of their own size.
    """
    _check(a, b)
    a, b = a.float(), b.float()
    c = a.shape[1]
    window = min(window, a.shape[-1], a.shape[-2])
    g = _gaussian(window, sigma)
    kernel = (g[:, None] * g[None, :]).expand(c, 1, window, window).contiguous()

    def blur(x):
        return F.conv2d(x, kernel, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1)


def against_baseline(name: str, baseline: str, scores: list[tuple[str, float, float]], advice: str) -> str:
    """One plain sentence on whether `name` beats its trivial `baseline` on every score of
    (label, ours, baseline's) (higher is better), naming each loss, as the forecaster's verdict does."""
    def pair(label, ours, theirs):
        return f"{label} {ours:.4g} vs {theirs:.4g}"

    lost = [pair(*s) for s in scores if s[1] <= s[2]]
    if not lost:
        return f"the {name} beats {baseline} on " + ", ".join(pair(*s) for s in scores)
    return f"the {name} does NOT beat {baseline}: {'; '.join(lost)}; {advice}"
