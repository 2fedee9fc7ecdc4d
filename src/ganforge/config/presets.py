"""Presets as data: settings that work for a model family on a kind of data, chosen by measurement
(the figures are in the README). A preset sits below --config, flags and --set; `ganforge presets`
lists them."""
from __future__ import annotations

PRESETS: dict[str, dict] = {
    "dcgan-mnist": {
        "models": ("dcgan", "lsgan"),
        "summary": "DCGAN on mnist5k-sized digit sets: DiffAugment, EMA of G, width 32; the demo's preset",
        "values": {"model": "dcgan", "width": 32, "batch_size": 64, "augment": "diffaug", "ema": 0.999},
    },
    "mlp-mnist": {
        "models": ("mlp",),
        "summary": "the MNIST article's MLP GAN (2 G steps per D step, batch 32) with DiffAugment and EMA of G",
        "values": {"model": "mlp", "batch_size": 32, "g_steps": 2, "augment": "diffaug", "ema": 0.999},
    },
    "dcgan-folder": {
        "models": ("dcgan", "lsgan"),
        "summary": "DCGAN on a small folder (hundreds of images): adaptive augmentation, EMA of G",
        "values": {"model": "dcgan", "width": 32, "batch_size": 32, "augment": "ada", "ema": 0.999},
    },
    "cgan-mnist": {
        "models": ("cgan",),
        "summary": "conditional DCGAN with a projection discriminator on labelled digits",
        "values": {"model": "cgan", "cond": "projection", "width": 32, "batch_size": 64, "ema": 0.999},
    },
}
