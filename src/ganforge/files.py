"""File helpers shared by checkpoints, caches and downloads: one cache folder, one atomic write."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

CACHE_ENV = "GANFORGE_CACHE"


def cache_dir() -> Path:
    """$GANFORGE_CACHE, else $XDG_CACHE_HOME/ganforge, else ~/.cache/ganforge."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganforge"


def atomic_write(path, write: Callable[[BinaryIO], None], suffix: str = ".tmp") -> Path:
    """Call write(f) on a temp file beside `path`, flush it to disk, then rename it over `path`:
    a kill or an error at any moment leaves the previous file (or none) in place, never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
