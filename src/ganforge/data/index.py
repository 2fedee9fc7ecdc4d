"""A cached listing of an image folder, for the streaming path: every image's size in bytes, its
modification time, its width and height (read from the header, nothing decoded) or why it cannot
be read. The cache lives in <cache>/folder-index/; each run re-lists the folder and re-reads only
the headers of files whose size or modification time changed (or that are new), so listing a
folder of 100,000 images costs one pass of stat() after the first time.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files import atomic_write, cache_dir
from .images import list_images, read_folder, read_image, resize_center_crop

INDEX_VERSION = 1


@dataclass
class FolderIndex:
    """The usable images of a folder, in sorted path order, and what indexing found.

    paths: absolute paths; sizes: (width, height) of each; labels / classes: the ImageFolder
    layout's classes (None when the folder has none); refreshed: headers read this time (the rest
    came from the cache); bad: the skipped files' reasons."""

    folder: Path
    paths: list[Path]
    sizes: list[tuple[int, int]]
    labels: list[int] | None
    classes: list[str] | None
    refreshed: int
    bad: int


def decode_square(path: Path, channels: int, size: int) -> np.ndarray:
    """One image file -> uint8 (size, size, channels): short side scaled, centre square (a JPEG
    decoded at a reduced scale first where that still leaves >= size: read_image's draft). The
    in-memory, streaming and packing paths all decode through this, so they hold the same pixels."""
    img = read_image(path, channels, draft=size)
    return np.asarray(resize_center_crop(img, size), np.uint8).reshape(size, size, channels)


def folder_labels(folder: Path, paths: list[Path]) -> tuple[list[int] | None, list[str] | None]:
    """(labels, class names) when every image sits one sub-folder down and there are at least two
    sub-folders (the ImageFolder layout), else (None, None)."""
    rel = [p.relative_to(folder).parts for p in paths]
    if all(len(r) == 2 for r in rel) and len({r[0] for r in rel}) > 1:
        classes = sorted({r[0] for r in rel})
        lookup = {c: i for i, c in enumerate(classes)}
        return [lookup[r[0]] for r in rel], classes
    return None, None


def index_path(folder: Path) -> Path:
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:20]
    return cache_dir() / "folder-index" / f"{key}.json"


def _read_cache(path: Path, folder: Path) -> dict:
    """{relative path: [bytes, mtime_ns, width, height, error or None]}; {} for a missing, damaged or
    foreign cache file (it is only a cache: rebuilt, never trusted beyond its own checks)."""
    try:
        raw = json.loads(path.read_text())
        if raw.get("version") != INDEX_VERSION or raw.get("folder") != str(folder.resolve()):
            return {}
        files = raw["files"]
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return {}


def index_folder(folder: Path, channels: int = 3, check=None, strict: bool = False, progress: bool = True,
                 paths: list[Path] | None = None) -> FolderIndex:
    """List `folder` (recursively) through the cache. check(path, width, height) may refuse an image
    with a UserError (too small for the crop); refused and unreadable images are skipped and
    reported in one warning (read_folder), or raised with strict."""
    from tqdm import tqdm

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist")
    paths = list_images(folder) if paths is None else paths
    cache_file = index_path(folder)
    old, new = _read_cache(cache_file, folder), {}
    bar = tqdm(total=len(paths), desc=f"indexing {folder.name or folder}", unit="img", file=sys.stderr,
               disable=None if progress else True, mininterval=0.5)
    refreshed = 0

    def read(p: Path):
        nonlocal refreshed
        rel = str(p.relative_to(folder))
        try:
            st = p.stat()
        except OSError as e:
            raise UserError(f"cannot read image {p}: {e.strerror}") from None
        entry = old.get(rel)
        if not (isinstance(entry, list) and len(entry) == 5 and entry[:2] == [st.st_size, st.st_mtime_ns]):
            refreshed += 1
            try:
                w, h = read_image(p, channels, header=True)
                entry = [st.st_size, st.st_mtime_ns, w, h, None]
            except UserError as e:
                entry = [st.st_size, st.st_mtime_ns, 0, 0, str(e)]
        new[rel] = entry
        bar.update(1)
        if entry[4]:
            raise UserError(entry[4])
        if check is not None:
            check(p, entry[2], entry[3])
        return entry[2], entry[3]

    try:
        good, sizes = read_folder(folder, read, strict, paths)
    finally:
        bar.close()
        if new != old:
            _write_cache(cache_file, folder, new)
    labels, classes = folder_labels(folder, good)
    return FolderIndex(folder, good, sizes, labels, classes, refreshed, len(paths) - len(good))


def _write_cache(path: Path, folder: Path, files: dict) -> None:
    """Atomically; a cache that cannot be written only costs the next run the header reads."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": INDEX_VERSION, "folder": str(folder.resolve()), "files": files})
        atomic_write(path, lambda f: f.write(text.encode()))
    except (OSError, UserError):
        pass

