"""The GAN task: build(cfg, rt) -> the objective its family trains with (GANObjective in
tasks.gan.objective, one step for every family on the G(z, c) / D(x, c) contract, or one built on
it), load(ckpt) -> Generator, evaluate(ckpt, ...). The objective has its own module so that the
objectives built on it (tasks.lapgan, tasks.video) import it without a cycle through this one.
"""
from __future__ import annotations

from ..gan_generator import Generator
from .objective import GANObjective


def build(cfg, rt=None) -> GANObjective:
    from ..gan_variants import objective_class   # lapgan and videogan bring their own batches
    return objective_class(cfg.model, GANObjective)(cfg, rt)


def load(ckpt: dict) -> Generator:
    return Generator(ckpt)


def evaluate(ckpt: dict, num: int | None = None, extractor: str = "auto", data: str | None = None, seed: int = 0) -> dict:
    """`ganforge eval` of a GAN checkpoint: FID, KID, IS, precision/recall (metrics.generative)."""
    from ..gan_variants import evaluate_any   # clips: identity and motion; images: FID, KID, ...

    return evaluate_any(Generator(ckpt), num, extractor, data, seed)
