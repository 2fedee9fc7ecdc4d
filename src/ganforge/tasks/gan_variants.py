"""GAN families whose training view or evaluation differs from the image GANs': LAPGAN trains
each pyramid level on the real pyramid (tasks/lapgan.py), the video GAN on clips (tasks/video.py).
Both keep GANObjective's train step and its Generator loader."""
from __future__ import annotations


def objective_class(model: str, default):
    """The Objective class that trains `model` (default: the shared GANObjective)."""
    if model == "lapgan":
        from .lapgan import LAPGANObjective

        return LAPGANObjective
    if model == "videogan":
        from .video import VideoObjective

        return VideoObjective
    return default


def evaluate_any(gen, num: int | None = None, extractor: str = "auto", data: str | None = None, seed: int = 0) -> dict:
    """`ganforge eval` of a GAN: clips (T, C, H, W) on identity and motion (default 100 clips), images on
    FID, KID, IS, P/R (default 10,000 images)."""
    if len(gen.image_shape) == 4:
        from .video import evaluate_clips

        return evaluate_clips(gen, num, extractor, data, seed)
    from ..metrics.generative import evaluate_generator

    return evaluate_generator(gen, num or 10_000, extractor, data, seed)
