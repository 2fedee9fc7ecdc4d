"""One dataclass per task. CLI flags map 1:1 onto fields; a YAML file sets defaults and the
command line overrides it (precedence: field default < --config FILE < flags < --set k=v).

Every cross-field check lives in the task's validate(), which raises UserError naming the flag.
This module must stay free of torch imports: `ganforge --help` builds its parsers from it.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

from .errors import UserError

PRECISIONS = ("fp32", "bf16", "auto")
GAN_LOSSES = ("nonsaturating", "minimax", "lsgan", "hinge")


def opt(default, help: str, choices=None, short: str | None = None):
    """A config field with its --help text (and optional fixed choices)."""
    return field(default=default, metadata={"help": help, "choices": choices, "short": short})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass
class RunConfig:
    """Fields every training task shares: the generic loop reads these."""

    steps: int = opt(1000, "number of training steps (optimiser updates of the main network)")
    batch_size: int = opt(64, "images (or windows) per batch")
    seed: int = opt(0, "random seed: same seed, same data and same weights on CPU")
    out: str = opt("runs", "parent folder of the numbered run directories")
    precision: str = opt("fp32", "fp32; bf16 autocast (fast only on CPUs with AVX-512 BF16 or AMX, "
                          "emulated and slower elsewhere); auto: bf16 where the CPU has it, else fp32", PRECISIONS)
    log_every: int = opt(1, "write stats.jsonl / TensorBoard every N steps")
    sample_every: int = opt(500, "write a sample image every N steps (0: only at the end)")
    ckpt_every: int = opt(1000, "write checkpoint.pt every N steps (and always at the end)")
    progress: bool = opt(True, "show a progress bar")
    eval_every: int = opt(0, "evaluate every N steps and keep the best checkpoint as best.pt (0: off)")
    patience: int = opt(0, "stop after this many evaluations without improvement (0: never)")

    def validate(self) -> None:
        for name in ("steps", "batch_size", "log_every", "ckpt_every"):
            if getattr(self, name) <= 0:
                raise UserError(f"{flag_name(name)} must be positive, got {getattr(self, name)}")
        for name in ("sample_every", "eval_every", "patience"):
            if getattr(self, name) < 0:
                raise UserError(f"{flag_name(name)} must be >= 0, got {getattr(self, name)}")


@dataclass
class GANConfig(RunConfig):
    help: ClassVar[str] = "train an unconditional GAN (mlp, convgan, dcgan) on an image dataset"
    example: ClassVar[str] = ("ganforge train gan --model dcgan --data mnist5k --steps 2000 --batch-size 64\n"
                              "ganforge train gan --model convgan --data cifar10 --batch-size 32 --precision auto\n"
                              "ganforge train gan --resume runs/gan-0001 --steps 4000")

    model: str = opt("dcgan", "generator/discriminator family (see `ganforge models`)")
    data: str = opt("mnist5k", "dataset: mnist5k, mnist, fashion-mnist, cifar10, folder:PATH, synthetic:CxHxW")
    loss: str = opt("nonsaturating", "adversarial loss", GAN_LOSSES)
    lr: float = opt(2e-4, "Adam learning rate of G and D")
    beta1: float = opt(0.5, "Adam beta1")
    beta2: float = opt(0.999, "Adam beta2")
    latent_dim: int = opt(100, "size of the noise vector z")
    width: int = opt(64, "base channel width of conv models (DCGAN's ngf/ndf)")
    image_size: int = opt(0, "train at this size (0: the dataset's own size)")
    channels: int = opt(0, "1 or 3 (0: the dataset's own channels)")
    d_steps: int = opt(1, "discriminator updates per generator step")
    g_steps: int = opt(1, "generator updates per discriminator step (the MNIST article uses 2)")
    ema: float = opt(0.0, "keep an exponential moving average of G with this decay (0: off)")
    channels_last: bool = opt(True, "use the channels_last memory format for conv models")
    strict: bool = opt(False, "fail on unreadable images in folder:PATH instead of skipping them")
    eval_num: int = opt(1000, "generated images per --eval-every evaluation (FID, KID)")
    eval_extractor: str = opt("auto", "features for --eval-every: auto, inception, classifier:CKPT")

    def validate(self) -> None:
        super().validate()
        if self.eval_num < 2:
            raise UserError(f"--eval-num must be at least 2, got {self.eval_num}")
        for name in ("latent_dim", "width", "d_steps", "g_steps"):
            if getattr(self, name) <= 0:
                raise UserError(f"{flag_name(name)} must be positive, got {getattr(self, name)}")
        if self.lr <= 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if not (0.0 <= self.ema < 1.0):
            raise UserError(f"--ema must be in [0, 1), got {self.ema}")
        if self.channels not in (0, 1, 3):
            raise UserError(f"--channels must be 1 or 3, got {self.channels}")
        if self.image_size < 0:
            raise UserError(f"--image-size must be >= 0, got {self.image_size}")


@dataclass
class ClassifierConfig(RunConfig):
    help: ClassVar[str] = "train a CNN image classifier (cnn-small, cnn-cifar) with a held-out split"
    example: ClassVar[str] = ("ganforge train classifier --model cnn-small --data mnist5k --steps 1500\n"
                              "ganforge train classifier --model cnn-cifar --data cifar10 --steps 20000 --precision auto\n"
                              "ganforge train classifier --data folder:photos/ --image-size 32 --channels 3")

    steps: int = opt(1500, "number of training steps (optimiser updates)")
    eval_every: int = opt(250, "measure held-out accuracy every N steps; best.pt keeps the best (0: only at the end)")
    sample_every: int = opt(0, "unused by classifiers (no samples)")
    model: str = opt("cnn-small", "classifier (see `ganforge models --kind classifier`)")
    data: str = opt("mnist5k", "dataset: mnist5k, mnist, fashion-mnist, cifar10, folder:PATH (one sub-folder per class)")
    lr: float = opt(2e-3, "AdamW learning rate (cosine decay to 0 over --steps)")
    weight_decay: float = opt(1e-4, "AdamW weight decay")
    width: int = opt(0, "channels of the first conv stage (0: the model's default)")
    image_size: int = opt(0, "train at this size (0: the dataset's own size)")
    channels: int = opt(0, "1 or 3 (0: the dataset's own channels)")
    augment: bool = opt(True, "random shifts of up to 2 px (and horizontal flips for colour images)")
    val_fraction: float = opt(0.2, "held-out fraction for datasets without a test split (folder:PATH)")
    strict: bool = opt(False, "fail on unreadable images in folder:PATH instead of skipping them")

    def validate(self) -> None:
        super().validate()
        if self.lr <= 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if self.weight_decay < 0:
            raise UserError(f"--weight-decay must be >= 0, got {self.weight_decay}")
        if self.width < 0:
            raise UserError(f"--width must be >= 0, got {self.width}")
        if self.channels not in (0, 1, 3):
            raise UserError(f"--channels must be 1 or 3, got {self.channels}")
        if self.image_size < 0:
            raise UserError(f"--image-size must be >= 0, got {self.image_size}")
        if not (0.0 < self.val_fraction < 1.0):
            raise UserError(f"--val-fraction must be in (0, 1), got {self.val_fraction}")


@dataclass
class CycleGANConfig(RunConfig):
    help: ClassVar[str] = "train a CycleGAN (unpaired image-to-image translation, G: A->B and F: B->A)"
    example: ClassVar[str] = ("ganforge train cyclegan --steps 2000\n"
                              "ganforge train cyclegan --data horse2zebra --generator resnet-9 --width 64 "
                              "--load-size 286 --crop-size 256 --batch-size 1 --steps 200000\n"
                              "ganforge train cyclegan --data photos/trainA,paintings/ --crop-size 128")

    # Defaults train the embedded photo2vintage set in minutes on a CPU; the paper's 256 px setting
    # is the second example above.
    steps: int = opt(4000, "training steps (one update of G and F, then of D_X and D_Y)")
    batch_size: int = opt(1, "image pairs per batch (the paper uses 1)")
    sample_every: int = opt(500, "write a sample panel every N steps (0: only at the end)")
    ckpt_every: int = opt(500, "write checkpoint.pt every N steps (and always at the end)")
    data: str = opt("photo2vintage", "photo2vintage (embedded), horse2zebra, apple2orange, summer2winter_yosemite, "
                    "monet2photo, vangogh2photo, ..., a folder with trainA/ trainB/ [testA/ testB/], or PATH_A,PATH_B")
    generator: str = opt("resnet-6", "generator: resnet-6 (128 px in the paper) or resnet-9 (256 px)",
                         ("resnet-6", "resnet-9"))
    width: int = opt(8, "channels of the first generator / discriminator layer (the paper: 64)")
    load_size: int = opt(72, "images are scaled to this square size, then randomly cropped")
    crop_size: int = opt(64, "training crop size; also the test and default translate size (multiple of 4)")
    flip: bool = opt(True, "random horizontal flips")
    lr: float = opt(2e-4, "Adam learning rate (constant, then linear decay to 0; see --decay-from)")
    beta1: float = opt(0.5, "Adam beta1")
    beta2: float = opt(0.999, "Adam beta2")
    decay_from: float = opt(0.5, "fraction of --steps after which the learning rate decays linearly to 0")
    lambda_cycle: float = opt(10.0, "weight of the cycle-consistency L1 losses")
    identity: float = opt(0.5, "identity loss weight, as a fraction of --lambda-cycle (0: off)")
    pool_size: int = opt(50, "generated images kept in each discriminator's history pool (0: off)")
    eval_num: int = opt(0, "test images per --eval-every evaluation (0: all)")
    strict: bool = opt(False, "fail on unreadable or too small images instead of skipping them")

    def validate(self) -> None:
        super().validate()
        for name in ("width", "load_size", "crop_size"):
            if getattr(self, name) <= 0:
                raise UserError(f"{flag_name(name)} must be positive, got {getattr(self, name)}")
        if self.crop_size % 4:
            raise UserError(f"--crop-size must be a multiple of 4 (two stride-2 layers), got {self.crop_size}")
        if self.crop_size > self.load_size:
            raise UserError(f"--crop-size {self.crop_size} is larger than --load-size {self.load_size}")
        if self.lr <= 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if not (0.0 <= self.decay_from <= 1.0):
            raise UserError(f"--decay-from must be in [0, 1], got {self.decay_from}")
        for name in ("lambda_cycle", "identity", "pool_size", "eval_num"):
            if getattr(self, name) < 0:
                raise UserError(f"{flag_name(name)} must be >= 0, got {getattr(self, name)}")


@dataclass
class ForecasterConfig(RunConfig):
    help: ClassVar[str] = ("train a GRU forecaster on a CSV time series and score it against naive baselines "
                           "(default: tomorrow's max temperature in Seattle)")
    example: ClassVar[str] = ("ganforge train forecaster\n"
                              "ganforge train forecaster --csv sales.csv --column units --date-column day "
                              "--horizon 7 --fill interpolate\n"
                              "ganforge train forecaster --features temp_min,precipitation --window 60 --cell torch")

    steps: int = opt(0, "training steps (0: --epochs x training windows / --batch-size)")
    batch_size: int = opt(32, "windows per batch")
    eval_every: int = opt(0, "validate every N steps (0: once per epoch); best.pt keeps the lowest val_loss")
    patience: int = opt(5, "stop after this many validations without a better val_loss (0: never)")
    sample_every: int = opt(0, "unused by the forecaster (plots are written at the end)")
    csv: str = opt("", "CSV file with one row per time step (empty: the embedded Seattle weather 2012-2015)")
    column: str = opt("temp_max", "column to predict")
    date_column: str = opt("", "date column (empty: a column named date, time, timestamp, ... if there is one)")
    features: str = opt("", "extra input columns, comma-separated, e.g. temp_min,precipitation")
    fill: str = opt("none", "fill missing values and missing dates (none: refuse them)",
                    ("none", "interpolate", "ffill"))
    window: int = opt(100, "past steps the GRU reads per forecast")
    horizon: int = opt(1, "future steps predicted at once")
    epochs: int = opt(50, "passes over the training windows (sets --steps when that is 0)")
    hidden: str = opt("50,50", "GRU layer sizes, comma-separated")
    cell: str = opt("ganforge", "GRU implementation: ganforge (ganforge.nn.GRU, faster: fused recurrence with a "
                    "hand-written backward) or torch (torch.nn.GRU)",
                    ("torch", "ganforge"))
    reset_after: bool = opt(True, "apply the reset gate after the recurrent product (torch/Keras maths); "
                            "--no-reset-after is the article's equations and needs --cell ganforge")
    lr: float = opt(1e-3, "Adam learning rate")
    val_frac: float = opt(0.15, "fraction of rows (the middle part) for validation")
    test_frac: float = opt(0.15, "fraction of rows (the last part) for the test")
    season: int = opt(0, "period of the seasonal-naive baseline, e.g. 7 or 365 (0: detect from the training part)")
    threads: int = opt(1, "CPU threads (1 is safest: 2 is ~1.6x faster on an idle machine, much slower when another "
                          "process holds a core; 0: torch's default)")

    def validate(self) -> None:
        if self.steps < 0:
            raise UserError(f"--steps must be >= 0, got {self.steps}")
        # steps == 0 is legal here (derived from --epochs later); check the rest as usual
        RunConfig.validate(dataclasses.replace(self, steps=self.steps or 1))
        for name in ("window", "horizon", "epochs"):
            if getattr(self, name) <= 0:
                raise UserError(f"{flag_name(name)} must be positive, got {getattr(self, name)}")
        sizes = [h.strip() for h in self.hidden.split(",") if h.strip()]
        if not sizes or not all(h.isdigit() and int(h) > 0 for h in sizes):
            raise UserError(f"--hidden must be positive layer sizes like 50,50, got {self.hidden!r}")
        if self.lr <= 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if not (0 < self.val_frac < 1 and 0 < self.test_frac < 1 and self.val_frac + self.test_frac < 1):
            raise UserError(f"--val-frac and --test-frac must be in (0, 1) and sum to less than 1, "
                            f"got {self.val_frac} and {self.test_frac}")
        if self.season < 0 or self.threads < 0:
            raise UserError(f"--season and --threads must be >= 0, got {self.season} and {self.threads}")
        if self.cell == "torch" and not self.reset_after:
            raise UserError("--no-reset-after (the article's equations) needs --cell ganforge: "
                            "torch.nn.GRU only computes the reset-after variant")


# Task name -> config class; `ganforge train TASK` is built from this table.
TASKS: dict[str, type] = {"gan": GANConfig, "classifier": ClassifierConfig, "cyclegan": CycleGANConfig,
                          "forecaster": ForecasterConfig}


# --------------------------------------------------------------------------- machinery

def _base_type(tp):
    """int for int, float for float | None, ...; None when the type is not a plain scalar."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return tp


def _hints(cls) -> dict[str, type]:
    return {k: _base_type(v) for k, v in typing.get_type_hints(cls).items()}


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One flag per field; defaults are SUPPRESSed so we can tell what the user typed."""
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp, meta = hints[f.name], f.metadata
        names = [flag_name(f.name)] + ([meta["short"]] if meta.get("short") else [])
        choices = f"; one of {', '.join(meta['choices'])}" if meta.get("choices") else ""
        help_ = f"{meta.get('help', '')}{choices} (default: {f.default})"
        if tp is bool:
            parser.add_argument(*names, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_)
        else:
            parser.add_argument(*names, type=tp,
                                default=argparse.SUPPRESS, help=help_, metavar=f.name.upper())
    parser.add_argument("--config", metavar="FILE.yaml", help="YAML file of defaults for these flags")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config field, e.g. --set lr=1e-4 (repeatable)")


def coerce(cls, key: str, value, source: str):
    """Check that `value` fits field `key` of `cls`; ints are accepted for float fields."""
    hints = _hints(cls)
    if key not in hints:
        valid = ", ".join(f.name for f in dataclasses.fields(cls))
        raise UserError(f"{source}: unknown key {key!r}; valid keys: {valid}")
    tp = hints[key]
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):   # YAML 1.1 reads "1e-3" as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if tp is not None and not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise UserError(f"{source}: {key} must be {tp.__name__}, got {value!r}")
    choices = next(f for f in dataclasses.fields(cls) if f.name == key).metadata.get("choices")
    if choices and value not in choices:
        raise UserError(f"{source}: {key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def from_dict(cls, values: dict, source: str):
    """Build and validate a config from a plain dict (a YAML file, a checkpoint)."""
    clean = {k: coerce(cls, k, v, source) for k, v in values.items()}
    cfg = cls(**clean)
    cfg.validate()
    return cfg


def resolve(cls, args: argparse.Namespace | None = None, config_file: str | None = None,
            overrides: list[str] = (), **kwargs):
    """Merge field defaults, a YAML file, parsed CLI flags, --set strings and keyword args."""
    import yaml

    values: dict = {}
    if config_file:
        path = Path(config_file)
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except OSError as e:
            raise UserError(f"cannot read config file {path}: {e.strerror}") from None
        except yaml.YAMLError as e:
            raise UserError(f"config file {path} is not valid YAML: {e}") from None
        if not isinstance(loaded, dict):
            raise UserError(f"config file {path} must hold a mapping of key: value")
        values.update({k: coerce(cls, k, v, str(path)) for k, v in loaded.items()})
    if args is not None:
        names = {f.name for f in dataclasses.fields(cls)}
        values.update({k: coerce(cls, k, v, flag_name(k)) for k, v in vars(args).items() if k in names})
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        key = key.strip().replace("-", "_")
        values[key] = coerce(cls, key, yaml.safe_load(raw) if raw else "", "--set")
    values.update({k: coerce(cls, k, v, "argument") for k, v in kwargs.items()})
    cfg = cls(**values)
    cfg.validate()
    return cfg


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)
