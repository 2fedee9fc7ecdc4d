"""Model families: every module of this package registers its models when imported. The modules
are found by walking the package (a new family is one new file, listed nowhere), then families of
other installed packages through the `ganforge.families` entry points (each names a module to import)."""
from __future__ import annotations

import importlib
import pkgutil

from .registry import count_params, create, entries, get, register  # noqa: F401

ENTRY_POINT_GROUP = "ganforge.families"
_SKIP = {"registry", "family", "loader", "evaluators", "perceptual"}   # helpers, not families


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in _SKIP and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def load_plugins() -> list[str]:
    """Import the modules the `ganforge.families` entry points name (a family in another installed
    package); returns their names. A plugin that fails to import is one warning, not a crash."""
    import sys
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in {e.name for e in entries()}:
            continue
        try:
            ep.load()
            loaded.append(ep.name)
        except Exception as e:   # a broken plugin must not take the built-in families down
            print(f"warning: GAN family plugin {ep.name} ({ep.value}) failed to load: {type(e).__name__}: {e}",
                  file=sys.stderr)
    return loaded


_discover()
load_plugins()
