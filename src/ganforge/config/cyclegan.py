"""`ganforge train cyclegan`: unpaired image-to-image translation (Zhu et al. 2017)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import UserError
from .base import ImageRunConfig, opt


@dataclass
class CycleGANConfig(ImageRunConfig):
    help: ClassVar[str] = "train a CycleGAN (unpaired image-to-image translation, G: A->B and F: B->A)"
    example: ClassVar[str] = ("ganforge train cyclegan --steps 2000\n"
                              "ganforge train cyclegan --data horse2zebra --generator resnet-9 --width 64 "
                              "--load-size 286 --crop-size 256 --batch-size 1 --steps 200000\n"
                              "ganforge train cyclegan --data photos/trainA,paintings/ --crop-size 128")

    # Checkpoints written before --upsample / --norm / --skip / --ema existed used the paper's generator
    # (transposed convolutions, instance norm, no skip link) and no averages.
    CHECKPOINT_DEFAULTS: ClassVar[dict] = {"upsample": "deconv", "norm": "instance", "skip": "none", "ema": 0.0}

    # Defaults train the embedded photo2vintage set in minutes on a CPU; the paper's 256 px setting
    # is the second example above.
    steps: int = opt(4000, "training steps (one update of G and F, then of D_X and D_Y)", gt=0)
    batch_size: int = opt(1, "image pairs per batch (the paper uses 1)", gt=0)
    sample_every: int = opt(500, "write a sample panel every N steps (0: only at the end)", ge=0)
    ckpt_every: int = opt(500, "write checkpoint.pt every N steps (and always at the end)", gt=0)
    data: str = opt("photo2vintage", "photo2vintage (embedded), horse2zebra, apple2orange, summer2winter_yosemite, "
                    "monet2photo, vangogh2photo, ..., a folder with trainA/ trainB/ [testA/ testB/], or PATH_A,PATH_B")
    generator: str = opt("resnet-6", "generator: resnet-6 (128 px in the paper) or resnet-9 (256 px)",
                         ("resnet-6", "resnet-9"))
    width: int = opt(16, "channels of the first generator / discriminator layer (the paper: 64)", gt=0)
    upsample: str = opt("resize", "generator upsampling: deconv (transposed conv, the paper's) or resize "
                        "(nearest 2x resize + conv, no checkerboard artefacts; Odena et al. 2016)",
                        ("deconv", "resize"))
    norm: str = opt("none", "generator normalisation: instance (the paper's; it makes G blind to the image's "
                    "overall brightness and colour cast, see the README) or none", ("instance", "none"))
    skip: str = opt("input", "generator skip link: none (the paper's) or input (the last conv also sees the input "
                    "image at full resolution, so fine detail need not pass the stride-4 bottleneck)",
                    ("none", "input"))
    load_size: int = opt(72, "images are scaled to this square size, then randomly cropped", gt=0)
    crop_size: int = opt(64, "training crop size; also the test and default translate size (multiple of 4; at least "
                         "24, what the 70x70 PatchGAN's five 4x4 convolutions need)", ge=24)
    flip: bool = opt(True, "random horizontal flips")
    lr: float = opt(2e-4, "Adam learning rate (constant, then linear decay to 0; see --decay-from)", gt=0)
    beta1: float = opt(0.5, "Adam beta1", ge=0, lt=1)
    beta2: float = opt(0.999, "Adam beta2", ge=0, lt=1)
    decay_from: float = opt(0.5, "fraction of --steps after which the learning rate decays linearly to 0", ge=0, le=1)
    lambda_cycle: float = opt(10.0, "weight of the cycle-consistency L1 losses", ge=0)
    identity: float = opt(0.5, "identity loss weight, as a fraction of --lambda-cycle (0: off)", ge=0)
    ema: float = opt(0.999, "keep an exponential moving average of G and F with this decay; samples, eval, "
                     "translate and export use the averages (0: off, the paper's)", ge=0, lt=1)
    pool_size: int = opt(50, "generated images kept in each discriminator's history pool (0: off)", ge=0)
    eval_num: int = opt(0, "test images per --eval-every evaluation (0: all)", ge=0)
    strict: bool = opt(False, "fail on unreadable or too small images instead of skipping them")

    def cpu_bf16_allowed(self, path: str | None) -> tuple[bool, str]:
        """Whether --precision auto may train in bf16 on a CPU with this bf16 path (measured, config.precision)."""
        from .precision import cpu_bf16_allowed

        return cpu_bf16_allowed("cyclegan", path)

    def validate(self) -> None:
        super().validate()
        if self.crop_size % 4:
            raise UserError(f"--crop-size must be a multiple of 4 (two stride-2 layers), got {self.crop_size}")
        if self.crop_size > self.load_size:
            raise UserError(f"--crop-size {self.crop_size} is larger than --load-size {self.load_size}")
