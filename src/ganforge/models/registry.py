"""A small registry of model builders keyed by name.

    @register("dcgan", kind="gan", summary="...", example=dict(image_shape=(1, 28, 28)))
    def build(image_shape, latent_dim=100, width=64): ...

    create("dcgan", image_shape=(3, 32, 32))   # whatever the builder returns
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..errors import did_you_mean


@dataclass
class Entry:
    name: str
    kind: str          # gan | classifier | translator | discriminator | forecaster
    summary: str
    build: Callable
    example: dict = field(default_factory=dict)   # kwargs used by `ganforge models --params`


_REGISTRY: dict[str, Entry] = {}


def register(name: str, kind: str, summary: str, example: dict | None = None):
    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = Entry(name, kind, summary, fn, example or {})
        return fn
    return deco


def get(name: str, kind: str | None = None) -> Entry:
    entries = {n: e for n, e in _REGISTRY.items() if kind is None or e.kind == kind}
    if name not in entries:
        raise did_you_mean(f"{kind} model" if kind else "model", name, entries)
    return entries[name]


def create(name: str, kind: str | None = None, **kwargs):
    """Build a registered model. It is first built on the meta device (no memory) to count its
    parameters: settings whose weights, gradients and Adam state cannot fit are refused with the figure."""
    entry = get(name, kind)
    n = _meta_params(entry, kwargs)
    if n:
        from ..resources import check_fits

        settings = ", ".join(f"{k}={v}" for k, v in kwargs.items() if isinstance(v, (int, float, tuple, str)))
        check_fits(16 * n, f"model {name} ({settings}: {n:,} parameters, with gradients and optimiser state)",
                   "lower its width, latent or image size, or hidden sizes")
    return entry.build(**kwargs)


def _meta_params(entry: Entry, kwargs: dict) -> int | None:
    import torch

    try:
        with torch.device("meta"):
            return count_params(entry.build(**kwargs))
    except Exception:   # a builder that cannot run on meta: no estimate, the real build decides
        return None


def entries(kind: str | None = None) -> list[Entry]:
    return [e for e in _REGISTRY.values() if kind is None or e.kind == kind]


def count_params(obj) -> int:
    """Parameters of a module, or of every module in a tuple/dict of them."""
    if isinstance(obj, dict):
        obj = tuple(obj.values())
    if isinstance(obj, (tuple, list)):
        return sum(count_params(o) for o in obj)
    return sum(p.numel() for p in obj.parameters())
