"""`ganforge train sr`: single-image super-resolution, SRResNet or SRGAN (Ledig et al. 2017)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import UserError
from .base import ImageRunConfig, RunConfig, opt


@dataclass
class SRConfig(ImageRunConfig):
    # A folder in memory keeps its images' own sizes, streamed it is squares of --stream-size: the
    # crops differ, so --stream and --data-memory (which pick the path) stay fixed on resume.
    RESUMABLE: ClassVar[frozenset] = RunConfig.RESUMABLE | {"workers"}
    help: ClassVar[str] = "train a super-resolution net: srresnet (pixel loss) or srgan (content + adversarial loss)"
    example: ClassVar[str] = ("ganforge train sr --model srresnet --steps 3000\n"
                              "ganforge train sr --model srgan --init runs/sr-0001/checkpoint.pt --steps 1000\n"
                              "ganforge train sr --data mnist5k --crop 28 --scale 4\n"
                              "ganforge train sr --data folder:photos/ --eval-data folder:held-out/ --width 64 "
                              "--blocks 16")

    # Defaults: the CPU setting of the README's table (width 32, 8 blocks: about 0.4 M parameters).
    steps: int = opt(3000, "training steps (one generator update; srgan also one discriminator update)", gt=0)
    batch_size: int = opt(16, "high-resolution crops per batch (the paper: 16)", gt=0)
    sample_every: int = opt(1000, "write a sample panel every N steps (0: only at the end)", ge=0)
    model: str = opt("srresnet", "srresnet (generator alone, pixel loss) or srgan (+ discriminator)",
                     ("srresnet", "srgan"))
    scale: int = opt(4, "upscaling factor", (2, 4))
    blocks: int = opt(8, "residual blocks of the generator (the paper: 16)", gt=0)
    width: int = opt(32, "generator channels (the paper: 64)", gt=0)
    d_width: int = opt(32, "first discriminator layer's channels (the paper: 64); srgan only", gt=0)
    bn: bool = opt(False, "batch norm in the residual blocks (the paper's; EDSR found it hurts SR)")
    image_skip: bool = opt(True, "the net adds its detail to the bicubic upscaling (off: the paper's net)")
    data: str = opt("photos", "photos (the embedded photos, the left three quarters of each), mnist5k, cifar10, ... or "
                    "folder:PATH (images at their own resolution; streamed when larger than --data-memory) or "
                    "packed:DIR")
    eval_data: str = opt("", "held-out images: '' = the data's own (photos: the right quarter of each photo, "
                         "mnist5k / cifar10: the test split), or folder:PATH")
    stream_size: int = opt(0, "side streamed folder: images are decoded at (short side scaled, centre square; "
                           "0: 2 x --crop, at most the smallest short side) and packed:DIR images read at (0: as packed)", ge=0)
    crop: int = opt(96, "high-resolution training crop side (a multiple of --scale; the paper: 96)", gt=0)
    content: str = opt("auto", "content loss: mse or l1 (pixels), vgg54 / vgg22 (VGG-19 features; downloads the "
                       "ImageNet weights), cnn (the shipped classifier's features + MSE), auto (srresnet: mse; "
                       "srgan: vgg54 if cached, else cnn)", ("auto", "vgg54", "vgg22", "cnn", "mse", "l1"))
    adv_weight: float = opt(1e-3, "weight of the adversarial loss in the generator's loss (the paper: 1e-3)", ge=0)
    lr: float = opt(2e-4, "Adam learning rate (halved after half and after three quarters of --steps)", gt=0)
    beta1: float = opt(0.9, "Adam beta1", ge=0, lt=1)
    init: str = opt("", "start the generator from this sr checkpoint (SRGAN starts from a trained SRResNet)")
    eval_num: int = opt(0, "held-out images per evaluation (0: all)", ge=0)
    strict: bool = opt(False, "fail on unreadable or too small images instead of skipping them")

    def validate(self) -> None:
        super().validate()
        if self.crop % self.scale:
            raise UserError(f"--crop must be a multiple of --scale {self.scale}, got {self.crop}")
        if self.crop < 4 * self.scale:
            raise UserError(f"--crop must be at least {4 * self.scale} (4 low-resolution pixels), got {self.crop}")
        if 0 < self.stream_size < self.crop:
            raise UserError(f"--stream-size {self.stream_size} is smaller than --crop {self.crop}")

    def content_kind(self) -> str:
        """The content loss asked for, auto resolved for srresnet (srgan's auto depends on the cache)."""
        return "mse" if self.content == "auto" and self.model == "srresnet" else self.content
