"""The evaluation of clips. A family that makes clips (N, T, C, H, W) trains through GANObjective's
step; its hooks load clips (models/videogan.py); strips, GIFs and MP4s are written by viz/media.py.

Evaluation (`ganforge eval` of a video checkpoint), on generated and on real held-out clips:
    identity  for each clip, the share of its frames whose digit the shipped mnist5k classifier
              reads as the clip's most frequent class (the digit is located as the brightest 20x20
              window, then cropped 28x28 around it, as MNIST centres its 20x20 box); mean over clips.
    motion    the mean absolute change between consecutive frames (pixels in [0, 1]); the ratio
              generated / real says whether the generated clips move as much as real ones.
    clip-FD   (moving-mnist clips of 16x1x32x32 only) the Fréchet distance in the features of the
              shipped tiny 3D conv net (metrics/video.py) to 2,000 real training clips, for the
              generated clips and three reference rows: held-out real clips (the floor), static
              clips (each held-out clip's first frame repeated) and shuffled clips (its frames in
              random order). identity and motion alone cannot tell a digit-free moving box or a
              frozen digit from a good clip; this distance can.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data.video import SPRITE, load_clips
from ..errors import UserError


def digit_crops(frames: torch.Tensor) -> torch.Tensor:
    """(M, 1, H, W) in [-1, 1] -> (M, 1, 28, 28): 28x28 around the brightest 20x20 window of each frame."""
    score = F.avg_pool2d(frames + 1, SPRITE, stride=1)              # (M, 1, H - 19, W - 19)
    best = score.flatten(1).argmax(1)
    cols = score.shape[-1]
    padded = F.pad(frames, (4, 4, 4, 4), value=-1.0)               # the window's 4-pixel MNIST margin
    return torch.stack([padded[i, :, y:y + 28, x:x + 28] for i, (y, x) in
                        enumerate(zip((best // cols).tolist(), (best % cols).tolist()))])


def clip_scores(clips: torch.Tensor, classifier=None) -> dict[str, float]:
    """identity (when a classifier is given) and motion of clips (N, T, C, H, W) in [-1, 1]."""
    x = clips.float()
    out = {"motion": ((x[:, 1:] - x[:, :-1]).abs() / 2).mean().item()}
    if classifier is not None:
        n, t = x.shape[:2]
        pred = classifier(digit_crops(x.flatten(0, 1))).argmax(1).view(n, t)
        mode = pred.mode(1).values
        out["identity"] = (pred == mode[:, None]).float().mean().item()
    return out


def evaluate_clips(gen, num: int | None = None, extractor: str = "auto", data: str | None = None,
                   seed: int = 0) -> dict:
    """identity, motion and clip-FD of `num` (default 500) generated clips next to as many real
    held-out clips (and, for clip-FD, their static and shuffled versions)."""
    num = num or 500
    t, c, h, w = gen.image_shape
    dataset = data or gen.meta["dataset"]
    real = load_clips(dataset, "test", t, c, h, seed=seed + 1, n=num).images[:num]
    if len(real) < num:
        raise UserError(f"{dataset} has {len(real)} clips, fewer than --num {num}")
    fake = torch.cat(list(gen.iter_samples(num, seed=seed, batch_size=50)))
    classifier = None
    if c == 1:   # the digit classifier: the embedded one unless the user names another
        from ..metrics.extractors import get_extractor

        spec = "classifier" if extractor in (None, "auto") else extractor
        classifier = get_extractor(spec, (1, 28, 28), "mnist5k", device=gen.device).logits
    from ..data import to_float

    g, r = clip_scores(fake, classifier), clip_scores(to_float(real), classifier)
    out = {"clips": f"{num} generated, {num} real held-out from {dataset}"}
    for k in g:
        out[k], out[k + "_real"] = g[k], r[k]
    out["motion_ratio"] = g["motion"] / max(r["motion"], 1e-12)
    from ..metrics import video as V

    if V.applies(dataset, gen.image_shape):
        out["clip_fd_net"] = V.NAME
        out.update(V.distance_rows(fake, real, dataset, seed))
        out["protocol"] = V.protocol(num, dataset, seed, getattr(gen, "weights", None))
    else:
        out["clip_fd_net"] = (f"not measured: {V.NAME} knows only moving-mnist clips of "
                              f"{'x'.join(map(str, V.CLIP_SHAPE))} (TxCxHxW)")
    return out
