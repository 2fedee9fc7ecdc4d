"""Self-describing checkpoints: one file, written atomically, read with weights_only=True.

Layout (only tensors, numbers, strings, lists and dicts, so nothing arbitrary is unpickled):
    format, version, task, config (dict), step, meta (what rebuilding needs: image shape, classes,
    scaler...), modules {name: state_dict}, optimizers {name: state_dict}, extra, rng, metrics
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .. import sniff
from ..errors import UserError
from ..files import atomic_write

FORMAT = "ganforge-checkpoint"
VERSION = 1
ST_FORMAT = "ganforge-safetensors"   # `ganforge export --format safetensors` files, read back by load()
# A model folder `ganforge export --format hf` writes (use/hub.py), read back by load(): config.json
# rebuilds the model, model.safetensors holds the weights, a forecaster's series travels as series.csv.
CONFIG, WEIGHTS, EXPORT_FORMAT = "config.json", "model.safetensors", "ganforge-export"
SERIES = "series.csv"


def save(path: Path, payload: dict) -> Path:
    """Write `payload` to `path` atomically: a kill mid-write leaves the previous file intact."""
    return atomic_write(path, lambda f: torch.save({"format": FORMAT, "version": VERSION, **payload}, f))


def load(path, task: str | tuple[str, ...] | None = None) -> dict:
    """Read a checkpoint (a file, or a run directory holding checkpoint.pt) and check its task."""
    path = Path(path)
    if path.is_dir() and not (path / "checkpoint.pt").exists():   # a model folder from `export --format hf`
        return _checked(read_export(path), path, task)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        if path.suffix.lower() == ".safetensors":   # `ganforge export --format safetensors`: the same checks follow
            ckpt = read_safetensors(path)
        else:
            kind = sniff.kind_of_bytes(path)   # ONNX, CSV, text, images: named before torch tries them
            if kind is not None:
                raise UserError(f"{path} is not a readable checkpoint: it is {kind[0]}; {kind[1]}")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except UserError:
        raise
    except Exception as e:  # torch raises many types for corrupt, truncated or foreign files
        what, todo = sniff.unreadable(path, e)
        raise UserError(f"{path} is not a readable checkpoint: it is {what}; {todo}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        what, todo = sniff.kind_of_contents(ckpt, path)
        raise UserError(f"{path} is not a ganforge checkpoint: it is {what}; {todo}")
    return _checked(ckpt, path, task)


def _checked(ckpt: dict, path: Path, task) -> dict:
    """The version, task and type checks every checkpoint passes, however it was stored."""
    if ckpt.get("version", 0) > VERSION:
        raise UserError(f"{path} was written by a newer ganforge (format {ckpt['version']}); upgrade ganforge")
    if task is not None:
        wanted = (task,) if isinstance(task, str) else tuple(task)
        if ckpt.get("task") not in wanted:
            raise UserError(f"{path} is a {ckpt.get('task')} checkpoint; this command needs a "
                            f"{' or '.join(wanted)} checkpoint")
    for key, kind in REQUIRED.items():
        if not isinstance(ckpt.get(key), kind) or isinstance(ckpt.get(key), bool):
            what = "is missing" if key not in ckpt else f"is a {type(ckpt[key]).__name__}, not a {kind.__name__}"
            raise UserError(f"{path} is damaged: its {key!r} entry {what}")
    if ckpt["step"] < 0:
        raise UserError(f"{path} is damaged: its step is {ckpt['step']}")
    for key, value in ckpt["meta"].items():
        check = META_TYPES.get(key)
        if check is not None and not check(value):
            raise UserError(f"{path} is damaged or from an incompatible ganforge: its meta {key!r} is {value!r:.80}")
    ckpt = Payload(ckpt, str(path), "checkpoint")
    for key in ("meta", "extra", "optimizers"):
        if isinstance(ckpt.get(key), dict):
            ckpt[key] = Payload(ckpt[key], str(path), f"checkpoint's {key}")
    ckpt["path"] = str(path)
    return ckpt


# What every checkpoint holds, with its type; tasks read further keys from meta (checked on access).
REQUIRED = {"task": str, "config": dict, "step": int, "meta": dict, "modules": dict}


def _ints(n=None, lo=1):
    return lambda v: (isinstance(v, (list, tuple)) and (n is None or len(v) == n)
                      and all(isinstance(x, int) and not isinstance(x, bool) and x >= lo for x in v))


def _of(*types, optional=False):
    return lambda v: (v is None and optional) or (isinstance(v, types) and not isinstance(v, bool))


def _strs(optional=False):
    return lambda v: (v is None and optional) or (isinstance(v, list) and all(isinstance(x, str) for x in v))


# The meta entries tasks read, by name, with the shape a loader relies on (others are not checked).
META_TYPES = {"image_shape": lambda v: _ints(3)(v) or _ints(4)(v),   # (C, H, W), or (T, C, H, W) clips
              "image_size": lambda v: _of(int)(v) and v > 0, "channels": _of(int),
              "classes": _strs(optional=True), "columns": lambda v: _strs()(v) and len(v) > 0,
              "dataset": _of(str), "date_column": _of(str, optional=True), "freq": _of(str, optional=True),
              "scaler": _of(dict), "conformal": _of(dict, optional=True), "intervals": _of(dict, optional=True),
              "period": _of(int, optional=True),
              "rows": _of(int), "source": _of(str, optional=True)}


class Payload(dict):
    """A checkpoint dict whose missing keys raise one UserError naming the file, not a KeyError."""

    def __init__(self, values: dict, path: str, what: str):
        super().__init__(values)
        self._path, self._what = path, what

    def __missing__(self, key):
        raise UserError(f"{self._path} is damaged or from an incompatible ganforge: the {self._what} has no "
                        f"{key!r} entry")


def strip_prefixes(state: dict) -> dict:
    """Drop the '_orig_mod.' (torch.compile) and 'module.' (DDP) prefixes from a state dict."""
    out = {}
    for k, v in state.items():
        for prefix in ("_orig_mod.", "module."):
            while k.startswith(prefix):
                k = k[len(prefix):]
        out[k] = v
    return out


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DDP and torch.compile wrappers."""
    while hasattr(module, "module") or hasattr(module, "_orig_mod"):
        module = getattr(module, "module", None) or module._orig_mod
    return module


def load_module(net: torch.nn.Module, ckpt: dict, key: str) -> torch.nn.Module:
    """Load the weights `key` of a checkpoint into `net`, or say in one line what does not fit."""
    modules = ckpt.get("modules")
    if not isinstance(modules, dict) or not isinstance(modules.get(key), dict):
        raise UserError(f"{ckpt.get('path', 'checkpoint')} holds no weights for {key!r} (damaged or not written by "
                        "this task)")
    try:
        net.load_state_dict(modules[key])
    except (RuntimeError, KeyError, TypeError) as e:
        first = str(e).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) if len(first) > 1 else (first[0] if first else "")
        raise UserError(f"{ckpt.get('path', 'checkpoint')}: the weights of {key!r} do not fit the model its config "
                        f"describes ({detail[:300]})") from None
    return net


def read_safetensors(path) -> dict:
    """A checkpoint dict (format, task, config, meta, step, modules) from a file that
    ganforge.use.export.write_safetensors made."""
    from ..optional import require

    st = require("safetensors", "reading a .safetensors file")
    import safetensors.torch  # noqa: F401

    try:
        with st.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:   # safetensors raises its own error types for foreign or truncated files
        raise UserError(f"{path} is not a readable safetensors file: {str(e)[:200]}") from None
    if metadata.get("format") != ST_FORMAT:
        raise UserError(f"{path} is a safetensors file without a ganforge model card (not exported by ganforge)")
    try:
        header = json.loads(metadata["checkpoint"])
    except (KeyError, ValueError) as e:
        raise UserError(f"{path} is damaged: its ganforge metadata is unreadable ({e})") from None
    modules: dict[str, dict] = {}
    for key, value in tensors.items():
        name, _, param = key.partition(".")
        modules.setdefault(name, {})[param] = value
    return {"format": FORMAT, "version": VERSION, **header, "modules": modules}


def read_export(folder) -> dict:
    """A checkpoint dict from a folder `ganforge export --format hf` wrote; anything else is one UserError."""
    folder = Path(folder)
    if not ((folder / CONFIG).is_file() and (folder / WEIGHTS).is_file()):
        raise UserError(f"{folder} is neither a ganforge run nor a ganforge export: {folder / 'checkpoint.pt'} "
                        f"does not exist, nor do {CONFIG} + {WEIGHTS}")
    try:
        header = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{folder / CONFIG} is not readable JSON ({str(e)[:120]}): not a ganforge export") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise UserError(f"{folder} is not a ganforge export: its {CONFIG} lacks \"format\": \"{EXPORT_FORMAT}\" "
                        "(a model folder of another library?)")
    ckpt = read_safetensors(folder / WEIGHTS)
    for key in ("task", "config", "meta", "step"):   # config.json is the documented source; the weights' copy agrees
        if key in header:
            ckpt[key] = header[key]
    cfg = ckpt.get("config")
    if isinstance(cfg, dict) and cfg.get("csv") == SERIES and (folder / SERIES).is_file():
        ckpt["config"] = {**cfg, "csv": str(folder / SERIES)}   # relative to the folder, wherever it was moved
    return ckpt
