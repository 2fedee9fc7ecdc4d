"""A Fréchet distance for clips in the features of a tiny 3D conv net trained on moving mnist5k.

    clip-FD (c3d-tiny@moving-mnist5k)   the Fréchet distance between the Gaussians fitted to the
        64-d hidden features of generated and of real clips (N, 16, 1, 32, 32). It is FVD's recipe
        with a network small enough to ship (src/ganforge/data/builtin/c3d-tiny-moving-mnist5k.pt,
        built by tools/build_video_evaluator.py), not FVD: its figures compare only with figures of
        the same network, never with published I3D-based FVD.

The net (ClipNet) reads each frame and its change from the previous frame with three 3D convs,
and was trained to name the clip's digit (10 classes) and to track it: the centroid of every frame
and its displacement from frame to frame. Its features therefore know what a digit looks like and
how it moves, so a clip without a digit, a frozen one (static) or one whose frames jump around
(shuffled) all sit far from real clips.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.images import BUILTIN
from ..errors import UserError

EMBEDDED = BUILTIN / "c3d-tiny-moving-mnist5k.pt"
NAME = "clip-FD (c3d-tiny@moving-mnist5k)"
CLIP_SHAPE = (16, 1, 32, 32)   # (T, C, H, W) the net was trained on
REFERENCE_CLIPS = 2000         # real training clips the distances are measured against
STEP_SCALE = 4.0               # displacements (about 0.06-0.16 in centroid units) to about unit size


class ClipNet(nn.Module):
    """Clips (N, T, 1, H, W) in [-1, 1] -> features (N, feat) -> {"logits": (N, classes),
    "track": (N, 4T - 2)}: the digit's class, and its centroid per frame (2T) then its steps (2T - 2)."""

    def __init__(self, frames: int = 16, width: int = 16, feat: int = 64, classes: int = 10):
        super().__init__()
        self.frames, self.width, self.feat, self.classes = frames, width, feat, classes
        w = width
        self.convs = nn.Sequential(
            nn.Conv3d(2, w, (3, 4, 4), (1, 2, 2), 1), nn.LeakyReLU(0.2, True),          # T, H/2
            nn.Conv3d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2, True),                       # T/2, H/4
            nn.Conv3d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2, True))                   # T/4, H/8
        # pooled over space only: the order of the time steps stays in the features
        self.fc = nn.Sequential(nn.Linear(4 * w * (frames // 4), feat), nn.LeakyReLU(0.2, True))
        self.head = nn.Linear(feat, classes + 4 * frames - 2)

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        x = clips.transpose(1, 2)                                             # (N, 1, T, H, W)
        change = F.pad(x[:, :, 1:] - x[:, :, :-1], (0, 0, 0, 0, 1, 0))       # zero for the first frame
        h = self.convs(torch.cat([x, change], 1)).mean((3, 4))               # (N, 4w, T/4)
        return self.fc(h.flatten(1))

    def forward_head(self, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.head(feats)
        return {"logits": out[:, :self.classes], "track": out[:, self.classes:]}

    def forward(self, clips: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.forward_head(self.forward_features(clips))


def track_targets(clips: torch.Tensor) -> torch.Tensor:
    """uint8 or float clips (N, T, 1, H, W) -> (N, 4T - 2): each frame's centroid (y, x) scaled to
    [-1, 1], then the steps between consecutive centroids times STEP_SCALE."""
    x = clips.float()
    if not clips.dtype.is_floating_point:
        x = x / 255
    else:
        x = (x + 1) / 2
    mass = x[:, :, 0]                                                          # (N, T, H, W)
    h, w = mass.shape[-2:]
    total = mass.sum((2, 3)).clamp_min(1e-6)
    ys = torch.linspace(-1, 1, h)
    xs = torch.linspace(-1, 1, w)
    pos = torch.stack([(mass.sum(3) * ys).sum(2) / total, (mass.sum(2) * xs).sum(2) / total], 2)   # (N, T, 2)
    steps = (pos[:, 1:] - pos[:, :-1]) * STEP_SCALE
    return torch.cat([pos.flatten(1), steps.flatten(1)], 1)


# ------------------------------------------------------------------------------ reference clips

def static_clips(clips: torch.Tensor) -> torch.Tensor:
    """(N, T, ...) -> the first frame of each clip repeated T times."""
    return clips[:, :1].expand_as(clips).contiguous()


def shuffled_clips(clips: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(N, T, ...) -> each clip's frames in a random order (its own permutation per clip)."""
    g = torch.Generator().manual_seed(seed)
    order = torch.rand(clips.shape[:2], generator=g).argsort(1)
    return clips[torch.arange(len(clips))[:, None], order]


def drifting_boxes(n: int, frames: int = 16, size: int = 32, seed: int = 0) -> torch.Tensor:
    """(n, frames, 1, size, size) uint8: a grey 20x20 lattice box (no digit) bouncing as the digits do,
    what an early video GAN draws."""
    import numpy as np

    from ..data.video import SPRITE, bounce, place

    rng = np.random.default_rng(seed)
    box = np.zeros((SPRITE, SPRITE), np.uint8)
    box[2:-2, 2:-2] = 90
    box[2:-2:4, 2:-2] = box[2:-2, 2:-2:4] = 200                              # a lattice of brighter lines
    paths = bounce(n, frames, size - SPRITE - 1, rng)
    corner = paths.astype(np.int64)
    out = np.zeros((n, frames, size, size), np.float32)
    for i in range(n):
        patches = place(box, paths[i, :, 0] - corner[i, :, 0], paths[i, :, 1] - corner[i, :, 1])
        for t, (y, x) in enumerate(corner[i]):
            out[i, t, y:y + SPRITE + 1, x:x + SPRITE + 1] = patches[t]
    return torch.from_numpy(np.rint(out).astype(np.uint8))[:, :, None]


# ------------------------------------------------------------------------------ the distance

@lru_cache(maxsize=2)
def load_net(path: str = str(EMBEDDED)) -> ClipNet:
    """The shipped ClipNet, in eval mode."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        net = ClipNet(**blob["config"])
        net.load_state_dict({k: v.float() for k, v in blob["state"].items()})
    except (OSError, KeyError, RuntimeError) as e:
        raise UserError(f"cannot load the video evaluator {path} ({str(e)[:120]}); rebuild it with "
                        "tools/build_video_evaluator.py") from None
    return net.eval()


@lru_cache(maxsize=1)
def weights_sha256(path: str = str(EMBEDDED)) -> str:
    """The SHA-256 of the shipped net's file: eval.json records it, so scores from another net are
    never put beside these."""
    from ..data.download import sha256sum

    return sha256sum(Path(path))


def protocol(num: int, dataset: str, seed: int, weights: str | None = None) -> dict:
    """How distance_rows measured: `num` generated clips against REFERENCE_CLIPS training clips (the
    image scores' protocol, with this net as the extractor)."""
    from types import SimpleNamespace

    from .protocol import generative

    net = SimpleNamespace(name=NAME, sha256=weights_sha256(), layer="64-d hidden features", resize=None)
    return generative(net, num, REFERENCE_CLIPS, dataset, seed, "train", weights)


@torch.no_grad()
def clip_features(clips: torch.Tensor, net: ClipNet | None = None, batch: int = 250) -> torch.Tensor:
    """Clips (N, T, 1, H, W) (uint8, or floats in [-1, 1]) -> features (N, 64)."""
    from ..data import to_float

    net = net or load_net()
    if tuple(clips.shape[1:]) != CLIP_SHAPE:
        want, got = ("x".join(map(str, s)) for s in (CLIP_SHAPE, clips.shape[1:]))
        raise UserError(f"{NAME} needs clips of {want} (TxCxHxW), got {got}")
    out = []
    for chunk in clips.split(batch):
        x = chunk.float() if chunk.dtype.is_floating_point else to_float(chunk)
        out.append(net.forward_features(x))
    return torch.cat(out)


def clip_distance(clips: torch.Tensor, reference: torch.Tensor) -> float:
    """The Fréchet distance between clips and reference clips (both (N, 16, 1, 32, 32)), or between
    their features when given (N, 64) features."""
    from .image import frechet_distance

    a = clips if clips.dim() == 2 else clip_features(clips)
    b = reference if reference.dim() == 2 else clip_features(reference)
    return float(frechet_distance(b, a))


def applies(dataset: str, clip_shape) -> bool:
    """Whether the shipped net fits: single-digit moving mnist5k clips of CLIP_SHAPE."""
    return dataset == "moving-mnist" and tuple(clip_shape) == CLIP_SHAPE


def distance_rows(fake: torch.Tensor, held_out: torch.Tensor, dataset: str, seed: int = 0) -> dict[str, float]:
    """clip-FD of generated clips and of the three reference rows (held-out real, static, shuffled),
    each against REFERENCE_CLIPS real training clips. fake: floats in [-1, 1]; held_out: uint8."""
    from ..data.video import load_clips

    t, c, h, _ = CLIP_SHAPE
    ref = clip_features(load_clips(dataset, "train", t, c, h, seed=0, n=REFERENCE_CLIPS).images)
    return {"clip_fd": clip_distance(fake, ref),
            "clip_fd_real": clip_distance(held_out, ref),
            "clip_fd_static": clip_distance(static_clips(held_out), ref),
            "clip_fd_shuffled": clip_distance(shuffled_clips(held_out, seed), ref)}
