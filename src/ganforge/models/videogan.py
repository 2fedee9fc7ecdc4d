"""A small DVD-GAN (Clark et al. 2019): a recurrent generator and two discriminators.

G: a DCGAN generator draws the clip's content from z; a GRU over the T frames (first state and input
from z: same noise, same clip) gives every frame an offset, and the frame is the content shifted by
it (see VideoGenerator: identity is kept by construction, the motion is learnt).

D (one module, two heads, as DVD-GAN's dual discriminator):
    "adv_spatial"  (N, k): a DCGAN discriminator on k frames drawn at random from each clip, at full
                   resolution (DVD-GAN: k = 8 of 48; here 4 of 16); judges what single frames look like.
    "adv_temporal" (N,):   3D convolutions over the whole clip at half the resolution (2x2 average);
                   judges motion.
The one GAN objective sums the adversarial loss of both heads. Clips are (N, T, C, H, W) in [-1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config.base import opt
from ..nn.augment import warp
from ..errors import UserError
from ..nn import init_normal
from .dcgan import DCDiscriminator, DCGenerator
from .family import Family, Hooks
from .registry import register

SPATIAL_FRAMES = 4   # k: frames per clip the spatial discriminator judges
MAX_SHIFT = 0.5      # the largest offset of a frame, in units of half the frame side
VELOCITY_SCALE = 0.5    # so the first clips move about as fast as real digits, not across the frame at once
MOTIONS = ("glide", "bounce")


def reflect(u: torch.Tensor) -> torch.Tensor:
    """A free coordinate folded into [-1, 1] by reflection at both ends (a triangle wave of period 4):
    a point moving at constant speed bounces off the walls, as a ball in a box does."""
    return ((u - 1).remainder(4) - 2).abs() - 1


class VideoGenerator(nn.Module):
    """z (N, latent_dim) -> clips (N, T, C, H, W) in [-1, 1].

    A DCGAN generator draws one canvas per clip from z (the content); a GRU run over the T frames
    (input z at every step, first state from z) gives each frame's offset, and frame t is the
    canvas shifted by it (bilinear, so the offsets learn from the discriminators' gradients). Every
    frame shows the same content, which keeps a digit's identity, and only the trajectory is
    learnt by the recurrence; the price is that G can only move its canvas (global translation),
    which is what moving digits and camera pans need.

    motion: how the running sum of velocities becomes an offset. "glide" squashes it with tanh, so a
    clip slows down near the edge and a bounce must be learnt as a turn of the velocity; "bounce"
    folds it back at the walls of a box whose half-width G learns (`reflect`), so a constant
    velocity already bounces, as bouncing digits and balls do.
    """

    def __init__(self, clip_shape, latent_dim: int = 100, width: int = 64, hidden: int = 64, motion: str = "glide"):
        super().__init__()
        if motion not in MOTIONS:
            raise ValueError(f"unknown motion {motion!r}; choose from {MOTIONS}")
        t, c, h, w = clip_shape
        self.image_shape, self.latent_dim, self.frames, self.motion = tuple(clip_shape), latent_dim, t, motion
        self.canvas = DCGenerator((c, h, w), latent_dim, width)
        self.h0 = nn.Linear(latent_dim, hidden)
        self.gru = nn.GRUCell(latent_dim, hidden)
        self.start, self.velocity = nn.Linear(latent_dim, 2), nn.Linear(hidden, 2)   # default init: clips move from the start
        if motion == "bounce":   # the box's half-width, MAX_SHIFT * sigmoid(room): 0.34 at first (the real digits' room)
            self.room = nn.Parameter(torch.tensor(0.8))

    def offsets(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent) -> (N, T, 2) shifts (x, y) in units of half the frame, within +-MAX_SHIFT.

        The GRU gives a velocity per frame and the shifts are their running sum from a start that z
        sets: a GRU at rest already moves the content steadily (as the real digits do between
        bounces), and a turn of the velocity is a bounce; tanh keeps the content near the frame."""
        h, out = torch.tanh(self.h0(z)), []
        for _ in range(self.frames):
            h = self.gru(z, h)
            out.append(h)
        velocity = VELOCITY_SCALE * self.velocity(torch.stack(out, 1))   # (N, T, 2)
        path = self.start(z)[:, None] + velocity.cumsum(1)
        if self.motion == "bounce":
            return MAX_SHIFT * torch.sigmoid(self.room) * reflect(path)
        return MAX_SHIFT * torch.tanh(path)

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        canvas = self.canvas(z)                                        # (N, C, H, W)
        n, t = z.shape[0], self.frames
        shift = self.offsets(z).flatten(0, 1).float()                 # (N * T, 2)
        still = shift.new_zeros(n * t)
        x = warp(canvas.repeat_interleave(t, 0).float(), still, still + 1, shift)   # moved by shift, -1 fills in
        return x.view(n, t, *canvas.shape[1:])


class TemporalDiscriminator(nn.Module):
    """Clips (N, T, C, H, W) -> logits (N,): 3D convs on the clip at half resolution, with the change
    from each frame to the next as C more input channels (zero for the first frame): a static or slow
    clip then differs from a real one in plain sight, not only in a sub-pixel shift."""

    def __init__(self, clip_shape, width: int = 64):
        super().__init__()
        t, c, h, w = clip_shape
        layers, ch = [nn.Conv3d(2 * c, width, (3, 4, 4), (1, 2, 2), 1), nn.LeakyReLU(0.2, True)], width
        side, frames = h // 4, t
        while side > 4:
            step = 2 if frames >= 4 else 1   # halve time too while there is enough of it
            layers += [nn.Conv3d(ch, ch * 2, (4 if step == 2 else 3, 4, 4), (step, 2, 2), 1), nn.LeakyReLU(0.2, True)]
            ch, side, frames = ch * 2, side // 2, frames // step
        self.net = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():   # the flattened size (works on the meta device too)
            feat = self.net(torch.zeros(1, 2 * c, t, h // 2, w // 2)).shape[1]
        self.head = nn.Linear(feat, 1)
        init_normal(self)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool3d(clips.transpose(1, 2), (1, 2, 2))             # (N, C, T, H/2, W/2)
        change = F.pad(x[:, :, 1:] - x[:, :, :-1], (0, 0, 0, 0, 1, 0))   # (N, C, T, H/2, W/2)
        return self.head(self.net(torch.cat([x, change], 1))).flatten()


class VideoDiscriminator(nn.Module):
    """Clips (N, T, C, H, W) -> {"adv_spatial": (N, k), "adv_temporal": (N,)}."""

    def __init__(self, clip_shape, width: int = 64, k: int = SPATIAL_FRAMES):
        super().__init__()
        t, c, h, w = clip_shape
        self.k = min(k, t)
        self.spatial = DCDiscriminator((c, h, w), width)
        self.temporal = TemporalDiscriminator(clip_shape, width)

    def pick_frames(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, T, C, H, W) -> (N, k, C, H, W): k distinct frames per clip, drawn at random."""
        n, t = clips.shape[:2]
        idx = torch.rand(n, t, device=clips.device).argsort(1)[:, :self.k]
        return clips[torch.arange(n, device=clips.device)[:, None], idx]

    def forward(self, clips: torch.Tensor, c=None) -> dict[str, torch.Tensor]:
        frames = self.pick_frames(clips)
        n = clips.shape[0]
        return {"adv_spatial": self.spatial(frames.flatten(0, 1))["adv"].view(n, self.k),
                "adv_temporal": self.temporal(clips)}


@dataclass
class VideoSettings:
    frames: int = opt(16, "frames per clip (--data moving-mnist, moving-mnist:2 or videos:PATH)", ge=2, le=256)
    motion: str = opt("bounce", "how G's frames move: bounce (a learnt velocity, reflected at the walls of a box "
                      "G sizes) or glide (the velocity's sum squashed by tanh: slows at the edges)", MOTIONS)
    # Checkpoints written before --motion existed glide.
    CHECKPOINT_DEFAULTS: ClassVar[dict] = {"motion": "glide"}


class VideoHooks(Hooks):
    """Clips (N, T, C, H, W) in and out: the data are clips, the samples clips."""

    output = "clips"

    @classmethod
    def check(cls, cfg) -> None:
        if cfg.augment != "none":
            raise UserError("videogan trains without --augment (the image augmentations do not know clips)")
        if cfg.eval_every:
            raise UserError("videogan has no --eval-every (FID needs images); run `ganforge eval` on its checkpoint")

    def load_data(self, cfg):
        from ..data.video import load_clips

        return load_clips(cfg.data, "train", self.settings.frames, cfg.channels, cfg.image_size, cfg.seed,
                          cfg.strict)


@register("videogan", kind="gan", summary="video GAN (DVD-GAN style): DCGAN content moved by a GRU, spatial and "
          "temporal discriminators; clips TxCxHxW (--data moving-mnist)", example=dict(image_shape=(16, 1, 32, 32)),
          family=Family(settings=VideoSettings, hooks=VideoHooks, defaults={"data": "moving-mnist"},
                        tiny=dict(data="moving-mnist", frames=4), min_side=16))   # D strides frames 4 times
def build(image_shape, latent_dim: int = 100, width: int = 64, motion: str = "glide"):
    if len(image_shape) != 4:
        raise UserError("videogan trains on clips: use --data moving-mnist or --data videos:PATH")
    t, c, h, w = image_shape
    if h != w:
        raise UserError(f"videogan needs square frames, got {h}x{w}; set --image-size")
    if h < 16:
        raise UserError(f"videogan needs frames of at least 16x16, got {h}x{w}")
    return VideoGenerator(image_shape, latent_dim, width, motion=motion), VideoDiscriminator(image_shape, width)
