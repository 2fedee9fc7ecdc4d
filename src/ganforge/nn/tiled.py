"""Run a fully convolutional image-to-image net on an image too large for one pass, tile by tile,
with the same result as one pass over the whole image.

Two things make naive tiling differ from the whole-image pass: the border of each tile (zero or
reflection padding where the whole image has real neighbours) and instance norm, which normalises
by the statistics of whatever it is given (each tile's own, not the image's). Here every tile is
run with a margin of real context at least as wide as the net's receptive field, only its core is
kept, and instance norm uses the whole image's statistics, gathered tile by tile one norm layer at
a time (pass k runs the tiles up to norm layer k with layers 0..k-1 already fixed, and stops
there). With a margin that covers the receptive field the tiled output equals the whole-image
output up to float rounding; the price is about (number of norm layers / 2 + 1) passes.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class _Stop(Exception):
    pass


class _NormControl:
    """Forward hooks on the net's InstanceNorm2d layers: layers before `collecting` normalise with
    the fixed global statistics, layer `collecting` adds its input's sums over the tile core and
    stops the pass."""

    def __init__(self, norms: list[nn.InstanceNorm2d]):
        self.norms = norms
        self.stats: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(norms)
        self.collecting: int | None = None
        self.core: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 1, 1)   # rows, cols, input size
        self.sums: list[torch.Tensor] = []
        self.handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(norms)]

    def _hook(self, i: int):
        def hook(module, inputs, output):
            x = inputs[0]
            if i == self.collecting:
                r0, r1, c0, c1, h, w = self.core
                sh, sw = h // x.shape[-2], w // x.shape[-1]   # this layer's stride (1, 2 or 4)
                part = x[..., r0 // sh:r1 // sh, c0 // sw:c1 // sw].double()
                s = [part.sum((-2, -1)), (part * part).sum((-2, -1)), part.shape[-2] * part.shape[-1]]
                self.sums = [a + b for a, b in zip(self.sums, s)] if self.sums else s
                raise _Stop
            mean, var = self.stats[i]
            return ((x - mean) / torch.sqrt(var + module.eps)).to(x.dtype)
        return hook

    def close(self) -> None:
        for h in self.handles:
            h.remove()


def _spans(n: int, tile: int) -> list[tuple[int, int]]:
    return [(a, min(a + tile, n)) for a in range(0, n, tile)]


@torch.no_grad()
def tiled_forward(net: nn.Module, x: torch.Tensor, tile: int, margin: int, scale: int = 1) -> torch.Tensor:
    """net applied to (N, C, H, W) x, in tiles: (N, C', scale*H, scale*W).

    tile: side of the part of the output each pass keeps; margin: context added on each side
    (clipped at the image border). H, W, tile and margin must be multiples of the net's total
    stride (4 for the CycleGAN generators), so that every tile sits on the same stride grid as the
    whole image. The net must scale the spatial size by `scale` (1: keep it; a super-resolution
    net: its factor). InstanceNorm2d layers (without affine parameters) use the whole image's
    statistics; batch norm only in eval mode (then a fixed per-channel affine map); any other
    normalisation is not supported.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    if any(m.affine or m.track_running_stats for m in norms) or any(
            isinstance(m, nn.modules.batchnorm._NormBase) and not isinstance(m, nn.InstanceNorm2d) and m.training
            for m in net.modules()):
        raise ValueError("tiled_forward supports only InstanceNorm2d without affine parameters or running stats "
                         "and batch norm in eval mode")
    h, w = x.shape[-2:]
    tiles = [(r0, r1, c0, c1) for r0, r1 in _spans(h, tile) for c0, c1 in _spans(w, tile)]
    ctl = _NormControl(norms)
    try:
        out = []
        for img in x.split(1):
            def run(r0, r1, c0, c1):
                t0, t1, u0, u1 = max(0, r0 - margin), min(h, r1 + margin), max(0, c0 - margin), min(w, c1 + margin)
                ctl.core = (r0 - t0, r1 - t0, c0 - u0, c1 - u0, t1 - t0, u1 - u0)
                s = scale
                return net(img[..., t0:t1, u0:u1])[..., (r0 - t0) * s:(r1 - t0) * s, (c0 - u0) * s:(c1 - u0) * s]

            for k in range(len(norms)):
                ctl.collecting, ctl.sums = k, []
                for t in tiles:
                    try:
                        run(*t)
                    except _Stop:
                        pass
                s1, s2, count = ctl.sums
                mean = s1 / count
                var = (s2 / count - mean * mean).clamp_min(0)
                ctl.stats[k] = (mean[..., None, None].to(img.dtype), var[..., None, None].to(img.dtype))
            ctl.collecting = None
            y = None
            for r0, r1, c0, c1 in tiles:
                part = run(r0, r1, c0, c1)
                if y is None:
                    y = img.new_empty(1, part.shape[1], h * scale, w * scale)
                y[..., r0 * scale:r1 * scale, c0 * scale:c1 * scale] = part
            out.append(y)
        return torch.cat(out)
    finally:
        ctl.close()
