"""A small registry of model builders keyed by name.

    @register("dcgan", kind="gan", summary="...", example=dict(image_shape=(1, 28, 28)))
    def build(image_shape, latent_dim=100, width=64): ...

    create("dcgan", image_shape=(3, 32, 32))   # whatever the builder returns

A GAN family registers, beside its builder, what is its own (see family.py): its flags (a settings
dataclass), the config values it brings, its hooks (extra loss terms, training view, conditions,
evaluation extras, sample views) and the settings of a tiny run for the tests. Family modules are
found by walking this package (and the `ganforge.families` entry points), never listed by hand.
"""
from __future__ import annotations

import inspect
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from ..errors import UserError, did_you_mean


@dataclass
class Entry:
    name: str
    kind: str          # gan | classifier | translator | discriminator | forecaster | sr
    summary: str
    build: Callable
    example: dict = field(default_factory=dict)   # kwargs used by `ganforge models --params`
    family: object = None                         # a GAN family's Family (family.py); None for other kinds


_REGISTRY: dict[str, Entry] = {}


def register(name: str, kind: str, summary: str, example: dict | None = None, family=None):
    """Register a builder. GAN families pass family=Family(...) (models.family); without one a GAN
    gets the plain Family(): no flags of its own, no extra terms, images of its image_shape."""
    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        fam = family
        if kind == "gan":
            from .family import Family, publish

            fam = family or Family()
            publish(name, fam)
        _REGISTRY[name] = Entry(name, kind, summary, fn, example or {}, fam)
        return fn
    return deco


def get(name: str, kind: str | None = None) -> Entry:
    entries = {n: e for n, e in _REGISTRY.items() if kind is None or e.kind == kind}
    if name not in entries:
        raise did_you_mean(f"{kind} model" if kind else "model", name, entries)
    return entries[name]


def create(name: str, kind: str | None = None, **kwargs):
    """Build a registered model. An argument its builder does not take is one UserError naming it.
    It is first built on the meta device (no memory) to count its parameters: settings whose
    weights, gradients and Adam state cannot fit are refused with the figure."""
    entry = get(name, kind)
    check_arguments(entry, kwargs)
    n = _meta_params(entry, kwargs)
    if n:
        from ..resources import check_fits

        settings = ", ".join(f"{k}={v}" for k, v in kwargs.items() if isinstance(v, (int, float, tuple, str)))
        check_fits(16 * n, f"model {name} ({settings}: {n:,} parameters, with gradients and optimiser state)",
                   "lower its width, latent or image size, or hidden sizes")
    return entry.build(**kwargs)


def accepted(entry: Entry) -> set[str]:
    """The keyword arguments a builder takes."""
    return {p.name for p in inspect.signature(entry.build).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def check_arguments(entry: Entry, kwargs: dict) -> None:
    unknown = sorted(set(kwargs) - accepted(entry))
    if unknown:
        raise UserError(f"model {entry.name} takes no argument {unknown[0]!r}; it takes "
                        f"{', '.join(sorted(accepted(entry)))}")


def _meta_params(entry: Entry, kwargs: dict) -> int | None:
    import torch

    try:
        with _META_LOCK, torch.device("meta"), _no_meta_init():
            return count_params(entry.build(**kwargs))
    except Exception:   # a builder that cannot run on meta: no estimate, the real build decides
        return None


# _no_meta_init swaps module attributes: one meta build at a time (serve's threads); re-entrant, since a
# conditional family's builder creates its backbone (a nested count restores the outer count's swaps).
_META_LOCK = threading.RLock()


@contextmanager
def _no_meta_init():
    """Skip what only fills in values while a model is built on the meta device to be counted. On meta
    tensors, normal_ (weight init) and spectral norm's vector norms and matrix products load torch's
    reference kernels, about 2 s paid by every command that builds a model, and spectral norm's 15
    power iterations then run through Python. None of them adds or removes a parameter; real tensors
    pass through untouched."""
    import torch
    import torch.nn.functional as F
    from torch.nn.utils.parametrizations import _SpectralNorm

    def skip_on_meta(owner, name, tensor_arg, result):
        orig = getattr(owner, name)

        def patched(*a, **k):
            t = a[tensor_arg] if len(a) > tensor_arg else None
            return result(*a) if isinstance(t, torch.Tensor) and t.is_meta else orig(*a, **k)

        setattr(owner, name, patched)
        return owner, name, orig

    # owner, attribute, which positional argument is the tensor, what it gives on a meta tensor
    saved = [skip_on_meta(torch.Tensor, "normal_", 0, lambda t, *_: t),
             skip_on_meta(F, "normalize", 0, lambda t, *_: t),
             skip_on_meta(_SpectralNorm, "_power_method", 1, lambda sn, w, n: None),
             skip_on_meta(_SpectralNorm, "forward", 1, lambda sn, w: w)]
    try:
        yield
    finally:
        for owner, name, orig in saved:
            setattr(owner, name, orig)


def entries(kind: str | None = None) -> list[Entry]:
    return [e for e in _REGISTRY.values() if kind is None or e.kind == kind]


def count_params(obj) -> int:
    """Parameters of a module, or of every module in a tuple/dict of them."""
    if isinstance(obj, dict):
        obj = tuple(obj.values())
    if isinstance(obj, (tuple, list)):
        return sum(count_params(o) for o in obj)
    return sum(p.numel() for p in obj.parameters())
