"""Config machinery and the fields every training task shares; one torch-free file per task.

CLI flags map 1:1 onto fields; a YAML file sets defaults and the command line overrides it
(precedence: field default < checkpoint (on resume) < --config FILE < flags < --set k=v).

Each field declares its own limits next to it (opt(..., ge=0)) and one generic check enforces
them; a task's validate() adds only the cross-field checks, raising UserError that names the flag.
This package must stay free of torch imports: `ganforge --help` builds its parsers from it.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# name -> (test, how a failure reads); check_limits reads gt=0 as "positive"
_LIMITS = {"gt": (lambda v, b: v > b, "> {}"), "ge": (lambda v, b: v >= b, ">= {}"),
           "lt": (lambda v, b: v < b, "< {}"), "le": (lambda v, b: v <= b, "<= {}")}


def opt(default, help: str, choices=None, short: str | None = None, **limits):
    """A config field with its --help text, optional fixed choices and numeric limits
    (gt, ge, lt, le: e.g. opt(64, "...", gt=0) or opt(0.5, "...", ge=0, le=1))."""
    assert set(limits) <= set(_LIMITS), limits
    return field(default=default, metadata={"help": help, "choices": choices, "short": short, "limits": limits})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_limits(cfg) -> None:
    """The choices and limits every field declares, checked in field order; the message names the flag."""
    for f in dataclasses.fields(cfg):
        limits, choices = f.metadata.get("limits") or {}, f.metadata.get("choices")
        value = getattr(cfg, f.name)
        if choices and value not in choices:
            raise UserError(f"{flag_name(f.name)} must be one of {', '.join(map(str, choices))}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{flag_name(f.name)} must be a finite number, got {value}")
        failed = ["positive" if (k, b) == ("gt", 0) else _LIMITS[k][1].format(b)
                  for k, b in limits.items() if not _LIMITS[k][0](value, b)]
        if failed:
            raise UserError(f"{flag_name(f.name)} must be {' and '.join(failed)}, got {value}")


THREADS_HELP = ("CPU threads of this process (0: auto, the one rule of every command: a single process keeps "
                "torch's default, $OMP_NUM_THREADS or else the physical cores, since one job may use the whole "
                "machine; under torchrun each of the N processes on a machine takes its CPUs / N, so they do not "
                "fight over cores); on a shared machine pass a small N such as 1")


@dataclass
class RunConfig:
    """Fields every training task shares: the generic loop and the runtime read these."""

    # Fields that may differ when resuming (the rest must match the checkpoint): how long, how
    # often to log, and where / how the run computes.
    RESUMABLE: typing.ClassVar[frozenset] = frozenset({
        "steps", "progress", "log_every", "sample_every", "ckpt_every", "eval_every", "patience",
        "device", "precision", "compile", "threads", "diverge_bound", "diverge_window"})
    # Values of fields that checkpoints written before the field existed lack, where they differ
    # from today's default (a checkpoint's config missing the key resolves to this, not the default).
    CHECKPOINT_DEFAULTS: typing.ClassVar[dict] = {}
    # The field holding a settings group chosen by another field (GANConfig: the family's flags);
    # keys that are no field of the class go there through settle().
    GROUP: typing.ClassVar[str | None] = None

    steps: int = opt(1000, "number of training steps (optimiser updates of the main network)", gt=0)
    batch_size: int = opt(64, "images (or windows) per batch, in all processes together under torchrun", gt=0)
    seed: int = opt(0, "random seed: same seed, same data and same weights on CPU", ge=0, le=2 ** 32 - 1)
    out: str = opt("runs", "parent folder of the numbered run directories")
    device: str = opt("auto", "auto (cuda if available, else mps, else cpu), cpu, cuda, cuda:N or mps; "
                      "under torchrun each process takes cuda:LOCAL_RANK")
    precision: str = opt("auto", "auto: bf16 on GPUs that have it, else fp16 on GPUs, on the CPU bf16 only where it "
                         "is native (AVX-512 BF16 / AMX), else fp32; fp16 uses a loss scaler", PRECISIONS)
    compile: bool = opt(False, "torch.compile the networks (checkpoints stay plain state dicts)")
    sync_bn: bool = opt(False, "under torchrun, synchronise BatchNorm statistics across processes (SyncBatchNorm)")
    log_every: int = opt(1, "write stats.jsonl / TensorBoard every N steps", gt=0)
    sample_every: int = opt(500, "write a sample image every N steps (0: only at the end)", ge=0)
    ckpt_every: int = opt(1000, "write checkpoint.pt every N steps (and always at the end)", gt=0)
    progress: bool = opt(True, "show a progress bar")
    eval_every: int = opt(0, "evaluate every N steps and keep the best checkpoint as best.pt (0: off)", ge=0)
    patience: int = opt(0, "stop after this many evaluations without improvement (0: never)", ge=0)
    diverge_bound: float = opt(1e4, "stop the run (exit 2, keeping the last checkpoint written before) when a loss "
                               "stays larger than this in magnitude for --diverge-window steps (0: never)", ge=0)
    diverge_window: int = opt(20, "consecutive steps a loss must stay past --diverge-bound to stop the run", gt=0)
    threads: int = opt(0, THREADS_HELP, ge=0, le=256)

    @classmethod
    def implied(cls, values: dict) -> dict:
        """Defaults that follow from other values (a model's own defaults); below every explicit layer."""
        return {}

    @classmethod
    def group_keys(cls) -> set[str]:
        """Keys that are no field of this class but may belong to its settings group."""
        return set()

    @classmethod
    def settle(cls, values: dict, extras: dict) -> dict:
        """The constructor's arguments from the field values and the keys that are no field
        (key -> (value, source, from_checkpoint)); without a group those are unknown keys."""
        for key, (value, source, _) in extras.items():
            coerce(cls, key, value, source)   # raises: unknown key
        return values

    def validate(self) -> None:
        """Field limits, then cross-field checks (subclasses call super().validate() first)."""
        check_limits(self)
        dev = self.device
        if not (dev in ("auto", "cpu", "cuda", "mps") or (dev.startswith("cuda:") and dev[5:].isdigit())):
            raise UserError(f"--device must be auto, cpu, cuda, cuda:N or mps, got {dev!r}")


@dataclass
class ImageRunConfig(RunConfig):
    """RunConfig plus how image data reaches the loop (data.source). None of these changes a batch,
    so a resumed run may change them."""

    RESUMABLE: typing.ClassVar[frozenset] = RunConfig.RESUMABLE | {"stream", "workers", "data_memory"}

    data_memory: float = opt(0.0, "GB the decoded images of a folder:PATH may take in memory; a larger folder "
                             "streams from disk (0: a quarter of the available memory)", ge=0)
    stream: bool = opt(False, "stream folder:PATH images from disk (decoded per batch) even when they would fit")
    workers: int = opt(min(4, os.cpu_count() or 1), "DataLoader worker processes that decode streamed (or read "
                       "packed) images ahead of the loop (0: in the main process)", ge=0, le=256)


# --------------------------------------------------------------------------- machinery

def _base_type(tp):
    """int for int, float for float | None, ...; None when the type is not a plain scalar."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return tp


@functools.lru_cache(maxsize=None)
def _hints(cls) -> dict[str, type]:
    """Field name -> plain type of a config dataclass (cached: typing.get_type_hints is slow and a
    class's hints never change; callers only read the dict)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _base_type(hints[f.name]) for f in dataclasses.fields(cls)}


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One flag per field; defaults are SUPPRESSed so we can tell what the user typed."""
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if f.name != getattr(cls, "GROUP", None):
            _add_field(parser, f, hints[f.name])
    add_group_arguments(parser, cls)
    parser.add_argument("--config", metavar="FILE.yaml", help="YAML file of defaults for these flags")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config field, e.g. --set lr=1e-4 (repeatable)")


def add_group_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """The flags of every settings group a class may hold (cls.groups(): title -> (dataclass or None,
    description)), in one argparse group each; a flag two groups share is added once (under the first)."""
    seen = {f.name for f in dataclasses.fields(cls)}
    for title, (group_cls, description) in getattr(cls, "groups", lambda: {})().items():
        fields = [f for f in dataclasses.fields(group_cls) if f.name not in seen] if group_cls else []
        group = parser.add_argument_group(title, description)
        hints = _hints(group_cls) if group_cls else {}
        for f in fields:
            seen.add(f.name)
            _add_field(group, f, hints[f.name])


def _add_field(parser, f: dataclasses.Field, tp) -> None:
    """One field's flag (a parser or an argument group); defaults are SUPPRESSed so we can tell what
    the user typed."""
    meta = f.metadata
    names = [flag_name(f.name)] + ([meta["short"]] if meta.get("short") else [])
    choices = f"; one of {', '.join(map(str, meta['choices']))}" if meta.get("choices") else ""
    help_ = f"{meta.get('help', '')}{choices} (default: {f.default})".replace("%", "%%")   # argparse formats it
    if tp is bool:
        parser.add_argument(*names, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_)
    else:
        parser.add_argument(*names, type=tp, default=argparse.SUPPRESS, help=help_, metavar=f.name.upper())


def _split(cls, items, source: str, values: dict, extras: dict, from_checkpoint: bool = False) -> None:
    """Coerce the field keys of `items` into values; the rest go to extras (for settle)."""
    names = {f.name for f in dataclasses.fields(cls)} - {cls.GROUP}
    for k, v in items:
        src = source if source is not None else flag_name(k)
        if k in names or not cls.GROUP:
            values[k] = coerce(cls, k, v, src)
        else:
            extras[k] = (v, src, from_checkpoint)


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
        raise UserError(f"{source}: {key} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def from_dict(cls, values: dict, source: str):
    """Build and validate a config from a checkpoint's plain dict; keys it lacks take
    cls.CHECKPOINT_DEFAULTS, then the field default."""
    clean, extras = {}, {}
    _split(cls, {**cls.CHECKPOINT_DEFAULTS, **values}.items(), source, clean, extras, from_checkpoint=True)
    cfg = cls(**cls.settle(clean, extras))
    cfg.validate()
    return cfg


def resolve(cls, args: argparse.Namespace | None = None, config_file: str | None = None,
            overrides: list[str] = (), base: dict | None = None, base_source: str = "checkpoint", **kwargs):
    """Merge, lowest first: field defaults, `base` (a checkpoint's config, on resume), a YAML
    file, parsed CLI flags, --set strings and keyword args. Returns the validated config."""
    import yaml

    base = {**cls.CHECKPOINT_DEFAULTS, **base} if base else {}
    values: dict = {}
    extras: dict = {}
    _split(cls, base.items(), base_source, values, extras, from_checkpoint=True)
    if config_file:
        path = Path(config_file)
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except OSError as e:
            raise UserError(f"cannot read config file {path}: {e.strerror}") from None
        except UnicodeDecodeError as e:
            raise UserError(f"config file {path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
        except yaml.YAMLError as e:
            raise UserError(f"config file {path} is not valid YAML: {e}") from None
        if not isinstance(loaded, dict):
            raise UserError(f"config file {path} must hold a mapping of key: value")
        _split(cls, loaded.items(), str(path), values, extras)
    if args is not None:
        names = {f.name for f in dataclasses.fields(cls)} | cls.group_keys()
        _split(cls, [(k, v) for k, v in vars(args).items() if k in names], None, values, extras)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        key = key.strip().replace("-", "_")
        try:
            parsed = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            raise UserError(f"--set {item!r}: the value is not valid YAML") from None
        _split(cls, [(key, parsed)], "--set", values, extras)
    _split(cls, kwargs.items(), "argument", values, extras)
    implied, implied_extras = {}, {}
    _split(cls, cls.implied({**values, **{k: v[0] for k, v in extras.items()}}).items(), "preset", implied,
           implied_extras)
    cfg = cls(**cls.settle({**implied, **values}, {**implied_extras, **extras}))
    cfg.validate()
    return cfg


def to_dict(cfg) -> dict:
    """The config as a flat dict: a settings group's keys sit at the top level beside the fields."""
    out = dataclasses.asdict(cfg)
    if cfg.GROUP:
        out.update(out.pop(cfg.GROUP) or {})
    return out
