"""`ganforge train classifier`: a CNN on a labelled image dataset, scored on a held-out split."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import ImageRunConfig, opt


@dataclass
class ClassifierConfig(ImageRunConfig):
    help: ClassVar[str] = "train a CNN image classifier (cnn-small, cnn-cifar) with a held-out split"
    example: ClassVar[str] = ("ganforge train classifier --model cnn-small --data mnist5k --steps 1500\n"
                              "ganforge train classifier --model cnn-cifar --data cifar10 --steps 20000 --precision auto\n"
                              "ganforge train classifier --data folder:photos/ --image-size 32 --channels 3")

    steps: int = opt(1500, "number of training steps (optimiser updates)", gt=0)
    eval_every: int = opt(250, "measure held-out accuracy every N steps; best.pt keeps the best (0: only at the end)",
                          ge=0)
    sample_every: int = opt(0, "unused by classifiers (no samples)", ge=0)
    model: str = opt("cnn-small", "classifier (see `ganforge models --kind classifier`)")
    data: str = opt("mnist5k", "dataset: mnist5k, mnist, fashion-mnist, cifar10, folder:PATH (one sub-folder per class), "
                    "packed:DIR (a packed folder)")
    lr: float = opt(2e-3, "AdamW learning rate (cosine decay to 0 over --steps)", gt=0)
    weight_decay: float = opt(1e-4, "AdamW weight decay", ge=0)
    width: int = opt(0, "channels of the first conv stage (0: the model's default)", ge=0)
    image_size: int = opt(0, "train at this size (0: the dataset's own size)", ge=0)
    channels: int = opt(0, "1 or 3 (0: the dataset's own channels)", choices=(0, 1, 3))
    augment: bool = opt(True, "random shifts of up to 2 px (and horizontal flips for colour images)")
    val_fraction: float = opt(0.2, "held-out fraction for datasets without a test split (folder:PATH)", gt=0, lt=1)
    strict: bool = opt(False, "fail on unreadable images in folder:PATH instead of skipping them")
