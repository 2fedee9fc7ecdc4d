"""`ganforge train gan`: every generator/discriminator family on an image dataset."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import UserError
from .base import ImageRunConfig, check_limits, coerce, flag_name, opt
from .presets import DEFAULT_MODEL, PRESETS

GAN_LOSSES = ("nonsaturating", "minimax", "lsgan", "hinge", "relativistic")
# name -> models.family.Family, filled in by the GAN families as they register (this package sits
# below models and never imports it): their flags, the config values they bring, their checks.
FAMILIES: dict = {}
# The smallest image side of a family that registers none (Family.min_side): below 8 px there is no
# picture to learn, and dcgan has no upsampling layer left.
MIN_SIDE = 8


@dataclass
class GANConfig(ImageRunConfig):
    help: ClassVar[str] = "train a GAN (any family of `ganforge models --kind gan`) on an image or video dataset"
    example: ClassVar[str] = ("ganforge train gan --model dcgan --data mnist5k --steps 2000 --batch-size 64\n"
                              "ganforge train gan --model convgan --data cifar10 --batch-size 32 --precision auto\n"
                              "ganforge train gan --model cgan --cond projection --data mnist5k --steps 3000\n"
                              "ganforge train gan --resume runs/gan-0001 --steps 4000")

    model: str = opt(DEFAULT_MODEL, "generator/discriminator family (see `ganforge models`; each family's own "
                     "flags are listed below under its name)")
    data: str = opt("mnist5k", "dataset: mnist5k, mnist, fashion-mnist, cifar10, folder:PATH, packed:DIR (see "
                    "`ganforge datasets pack`), synthetic:CxHxW; clips for a family that makes clips: moving-mnist, "
                    "moving-mnist:2, videos:PATH")
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
    r2: float = opt(0.0, "R2 gradient penalty weight gamma on generated images (0: off); --loss relativistic "
                         "--r1 G --r2 G is the 2024 modern baseline's (R3GAN) objective", ge=0)
    r1_every: int = opt(16, "apply R1 and R2 every K steps, scaled by K (lazy regularisation)", gt=0)
    lr_g: float = opt(0.0, "learning rate of G (0: --lr)", ge=0)
    lr_d: float = opt(0.0, "learning rate of D (0: --lr); two time-scales when they differ", ge=0)
    collapse_window: int = opt(300, "say so when D catches every fake, or G's batch loses its diversity, for this "
                               "many steps in a row (0: off)", ge=0)
    stop_on_collapse: bool = opt(False, "stop the run (checkpoint saved) when the collapse watch fires")
    family: object = field(default=None, metadata={"help": "the chosen family's own settings (its flags)"})

    GROUP: ClassVar[str] = "family"

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
        family = FAMILIES.get(model)
        return {**(family.defaults if family else {}), **preset}

    @classmethod
    def groups(cls) -> dict:
        """'--model <family>' -> (its settings dataclass or None, what it brings), for `train gan --help`."""
        out = {}
        for name, fam in FAMILIES.items():
            brings = ", ".join(f"{flag_name(k)} {v}" for k, v in fam.defaults.items())
            out[f"--model {name}"] = (fam.settings, f"defaults: {brings}" if brings else None)
        return out

    @classmethod
    def group_keys(cls) -> set[str]:
        return {f.name for s, _ in cls.groups().values() if s is not None for f in dataclasses.fields(s)}

    @classmethod
    def settle(cls, values: dict, extras: dict) -> dict:
        """The chosen family's settings from the keys that are no GANConfig field. A flag of another
        family is an error naming it; in a checkpoint's config (written when every family's flags sat
        at the top level) it is left out."""
        if not FAMILIES:
            raise RuntimeError("import ganforge.models before resolving a GANConfig (the families register there)")
        model = values.get("model", cls.model)
        family = FAMILIES.get(model)
        settings = family.settings if family is not None else None
        own = {f.name for f in dataclasses.fields(settings)} if settings else set()
        kw = {}
        for key, (value, source, from_checkpoint) in extras.items():
            if key in own:
                kw[key] = coerce(settings, key, value, source)
            elif from_checkpoint and key in cls.group_keys():   # another family's flag, stored by older ganforge
                continue
            elif source == "preset" and key in cls.group_keys():   # validate() names the preset's own families
                continue
            elif key in cls.group_keys():
                owners = [n for n, f in FAMILIES.items() if f.settings and key in {x.name for x in
                                                                                    dataclasses.fields(f.settings)}]
                raise UserError(f"{flag_name(key)} is a flag of {' / '.join(owners)}; --model {model} has no such "
                                "setting")
            else:
                coerce(cls, key, value, source)   # raises: unknown key
        if settings is not None and any(from_checkpoint for _, _, from_checkpoint in extras.values()):
            for key, value in getattr(settings, "CHECKPOINT_DEFAULTS", {}).items():   # flags added since
                kw.setdefault(key, value)
        return {**values, "family": settings(**kw) if settings else None}

    def __post_init__(self):
        """Built directly (GANConfig(model=...)): the family's settings default to its flags' defaults;
        a dict of them is taken as they are."""
        family = FAMILIES.get(self.model)
        settings = family.settings if family is not None else None
        if settings is not None and not isinstance(self.family, settings):
            self.family = settings(**(self.family or {}))

    def __getattr__(self, name: str):
        """A family flag read as cfg.flag (the resume check compares every key of to_dict)."""
        family = self.__dict__.get("family")
        if family is not None and name in {f.name for f in dataclasses.fields(family)}:
            return getattr(family, name)
        raise AttributeError(f"GANConfig has no field {name!r}")

    def cpu_bf16_allowed(self, path: str | None) -> tuple[bool, str]:
        """Whether --precision auto may train this family in bf16 on a CPU with this bf16 path (measured)."""
        from .precision import cpu_bf16_allowed

        return cpu_bf16_allowed(self.model, path)

    def min_side(self) -> int:
        """The smallest image side --model trains on (what its family registered)."""
        return getattr(FAMILIES.get(self.model), "min_side", MIN_SIDE)

    def check_side(self, shape) -> None:
        """Refuse data whose (..., H, W) is below --model's smallest side, naming the flag that set it."""
        side = min(shape[-2:])
        if side < self.min_side():
            where = f"--image-size {self.image_size}" if self.image_size else f"--data {self.data} ({side} px images)"
            raise UserError(f"{where}: --model {self.model} needs images of at least {self.min_side()} px; "
                            f"pass --image-size {self.min_side()} or more")

    def validate(self) -> None:
        super().validate()
        if self.family is not None:
            check_limits(self.family)
        family = FAMILIES.get(self.model)
        if family is not None:
            family.hooks.check(self)
        if self.image_size and self.image_size < self.min_side():
            self.check_side((self.image_size, self.image_size))
        ops = self.augment_op_list()
        if not ops or any(o not in ("color", "translation", "cutout") for o in ops):
            raise UserError(f"--augment-ops must name some of color, translation, cutout, got {self.augment_ops!r}")
        if self.augment == "ada" and self.loss == "relativistic":
            raise UserError("--augment ada steers by the sign of D(real), which the relativistic loss leaves "
                            "meaningless (only D(real) - D(fake) counts); use --augment diffaug with it")
        if self.preset and self.model not in PRESETS[self.preset]["models"]:
            raise UserError(f"preset {self.preset} is for {' / '.join(PRESETS[self.preset]['models'])}, not "
                            f"--model {self.model}; pick a preset for {self.model} (see `ganforge presets`)")
