"""The GAN task: build(cfg, rt) -> GANObjective (tasks.gan.objective: one step for every family on the
G(z, c) / D(x, c) contract, each family's own terms and views through its registered hooks),
load(ckpt) -> Generator, evaluate(ckpt, ...) (images: FID and the family's extras; clips: tasks.video).
"""
from __future__ import annotations

from ..gan_generator import Generator
from .objective import GANObjective


def build(cfg, rt=None) -> GANObjective:
    return GANObjective(cfg, rt)


LOADER = Generator   # what load() returns; use.export reads its card_io / inference_modules


def load(ckpt: dict, device=None) -> Generator:
    return Generator(ckpt, device=device)


def evaluate(ckpt: dict, num: int | None = None, extractor: str = "auto", data: str | None = None, seed: int = 0,
             device=None) -> dict:
    """`ganforge eval` of a GAN checkpoint: images on FID, KID, IS, precision/recall and the family's
    extras (default 10,000 images); clips on identity and motion (default 100 clips). The generator
    and the feature extractor compute on `device` (None: the CPU)."""
    gen = Generator(ckpt, device=device)
    if gen.output == "clips":
        from ..video import evaluate_clips

        return evaluate_clips(gen, num, extractor, data, seed)
    from ...metrics.generative import evaluate_generator

    return evaluate_generator(gen, num or 10_000, extractor, data, seed)
