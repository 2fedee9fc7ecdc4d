"""`ganforge train gan`: every generator/discriminator family on an image dataset."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import UserError
from .base import ImageRunConfig, opt
from .presets import PRESETS

GAN_LOSSES = ("nonsaturating", "minimax", "lsgan", "hinge")
# Defaults a model family brings (below --config, flags and --set; above the field defaults).
MODEL_DEFAULTS = {"lsgan": {"loss": "lsgan"}}


@dataclass
class GANConfig(ImageRunConfig):
    help: ClassVar[str] = ("train a GAN on an image dataset: mlp, convgan, dcgan, lsgan, conditional cgan / acgan, "
                           "infogan")
    example: ClassVar[str] = ("ganforge train gan --model dcgan --data mnist5k --steps 2000 --batch-size 64\n"
                              "ganforge train gan --model convgan --data cifar10 --batch-size 32 --precision auto\n"
                              "ganforge train gan --model cgan --cond projection --data mnist5k --steps 3000\n"
                              "ganforge train gan --resume runs/gan-0001 --steps 4000")

    model: str = opt("dcgan", "generator/discriminator family (see `ganforge models`)")
    data: str = opt("mnist5k", "dataset: mnist5k, mnist, fashion-mnist, cifar10, folder:PATH, packed:DIR (see "
                    "`ganforge datasets pack`), synthetic:CxHxW; videogan: moving-mnist, moving-mnist:2, videos:PATH")
    loss: str = opt("nonsaturating", "adversarial loss", GAN_LOSSES)
    lr: float = opt(2e-4, "Adam learning rate of G and D", gt=0)
    beta1: float = opt(0.5, "Adam beta1", ge=0, lt=1)
    beta2: float = opt(0.999, "Adam beta2", ge=0, lt=1)
    latent_dim: int = opt(100, "size of the noise vector z", gt=0)
    width: int = opt(64, "base channel width of conv models (DCGAN's ngf/ndf)", gt=0)
    image_size: int = opt(0, "train at this size (0: the dataset's own size)", ge=0)
    channels: int = opt(0, "1 or 3 (0: the dataset's own channels)", choices=(0, 1, 3))
    d_steps: int = opt(1, "discriminator updates per generator step", gt=0)
    g_steps: int = opt(1, "generator updates per discriminator step (the MNIST article uses 2)", gt=0)
    ema: float = opt(0.0, "keep an exponential moving average of G with this decay (0: off)", ge=0, lt=1)
    channels_last: bool = opt(True, "use the channels_last memory format for conv models")
    strict: bool = opt(False, "fail on unreadable images in folder:PATH instead of skipping them")
    eval_num: int = opt(1000, "generated images per --eval-every evaluation (FID, KID)", ge=2)
    eval_extractor: str = opt("auto", "features for --eval-every: auto, inception, classifier:CKPT")
    preset: str = opt("", "settings that work for a model and kind of data (see `ganforge presets`); any flag, "
                      "--config or --set still overrides them")
    augment: str = opt("none", "differentiable augmentation of every image D sees (DiffAugment: colour, translation, "
                       "cutout); ada: applied with a probability that adapts to D's overfitting",
                       ("none", "diffaug", "ada"))
    augment_ops: str = opt("color,translation,cutout", "the augmentations --augment applies, comma-separated "
                           "(of color, translation, cutout)")
    ada_target: float = opt(0.6, "ada: the E[sign(D(real))] that the augmentation probability steers towards",
                            gt=0, lt=1)
    ada_kimg: float = opt(20.0, "ada: thousands of images over which the probability can move from 0 to 1", gt=0)
    spectral_norm: bool = opt(False, "spectral normalisation of every conv / linear layer of D (Miyato et al. 2018)")
    r1: float = opt(0.0, "R1 gradient penalty weight gamma on real images (0: off)", ge=0)
    r1_every: int = opt(16, "apply R1 every K steps, scaled by K (lazy regularisation)", gt=0)
    lr_g: float = opt(0.0, "learning rate of G (0: --lr)", ge=0)
    lr_d: float = opt(0.0, "learning rate of D (0: --lr); two time-scales when they differ", ge=0)
    collapse_window: int = opt(300, "say so when D catches every fake, or G's batch loses its diversity, for this "
                               "many steps in a row (0: off)", ge=0)
    stop_on_collapse: bool = opt(False, "stop the run (checkpoint saved) when the collapse watch fires")
    backbone: str = opt("dcgan", "nets under cgan, acgan and infogan", ("mlp", "dcgan"))
    cond: str = opt("concat", "how cgan's D reads the label: concat (an extra input channel) or projection "
                    "(Miyato & Koyama 2018)", ("concat", "projection"))
    aux_weight: float = opt(1.0, "weight of ACGAN's class loss and InfoGAN's code loss, in both nets", ge=0)
    cat_codes: int = opt(10, "InfoGAN: values of the categorical code", ge=2)
    cont_codes: int = opt(2, "InfoGAN: continuous codes, each ~ U(-1, 1)", ge=0)
    cont_weight: float = opt(1.0, "InfoGAN: weight of the continuous codes' likelihood within the code loss "
                             "(the paper keeps it small next to the categorical term)", ge=0)
    info_warp: float = opt(0.0, "InfoGAN: weight of Q recovering the categorical code from warped generated images "
                           "(in both nets) and giving warped real images the class it gives the originals, so the "
                           "code cannot stand for a slant or a shift (0: off)", ge=0)
    info_real: float = opt(0.0, "InfoGAN: weight of Q's categorical guess on real images being confident per image "
                           "and balanced over the batch (0: off)", ge=0)
    warp_degrees: float = opt(20.0, "--info-warp: rotate by up to this many degrees either way (and zoom by "
                              "0.9-1.1, shift by up to 7.5 percent of the side)", ge=0, le=180)
    frames: int = opt(16, "videogan: frames per clip (--data moving-mnist, moving-mnist:2 or videos:PATH)", ge=2,
                      le=256)

    def augment_op_list(self) -> list[str]:
        return [o.strip() for o in self.augment_ops.split(",") if o.strip()]

    @classmethod
    def implied(cls, values: dict) -> dict:
        """The preset's values, over the model family's own defaults."""
        name = values.get("preset", "")
        if name and name not in PRESETS:
            raise UserError(f"unknown preset {name!r}; choose from: {', '.join(PRESETS)} (see `ganforge presets`)")
        preset = PRESETS[name]["values"] if name else {}
        model = values.get("model", preset.get("model", cls.model))
        return {**MODEL_DEFAULTS.get(model, {}), **preset}

    def cpu_bf16_allowed(self, path: str | None) -> tuple[bool, str]:
        """Whether --precision auto may train this family in bf16 on a CPU with this bf16 path (measured)."""
        from .precision import cpu_bf16_allowed

        return cpu_bf16_allowed(self.model, path)

    def validate(self) -> None:
        super().validate()
        ops = self.augment_op_list()
        if not ops or any(o not in ("color", "translation", "cutout") for o in ops):
            raise UserError(f"--augment-ops must name some of color, translation, cutout, got {self.augment_ops!r}")
        if (self.info_warp or self.info_real) and self.model != "infogan":
            raise UserError(f"--info-warp and --info-real shape InfoGAN's codes; --model {self.model} has none")
        if self.preset and self.model not in PRESETS[self.preset]["models"]:
            raise UserError(f"preset {self.preset} is for {' / '.join(PRESETS[self.preset]['models'])}, not "
                            f"--model {self.model}; pick a preset for {self.model} (see `ganforge presets`)")
