"""File helpers shared by checkpoints, caches and downloads: one cache folder, one atomic write."""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import UserError

CACHE_ENV = "GANFORGE_CACHE"
TEMP_SUFFIXES = (".tmp", ".part")   # what atomic_write leaves behind when the process is killed mid-write


class DiskFull(UserError):
    """The disk (or the user's quota) filled up during a write; the file being replaced is intact."""

    def __init__(self, path, free: str = "", then: str = "free some space (or choose another folder) and run again"):
        self.path, self.free = Path(path), free
        super().__init__(f"the disk is full: could not write {self.path}{free}; {then}")


def is_disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def free_space(path) -> str:
    """' (N MB free there)' for the disk holding path, or '' when it cannot be told."""
    try:
        return f" ({shutil.disk_usage(Path(path).parent).free / 1e6:.0f} MB free there)"
    except OSError:
        return ""


class _Recording:
    """A file object that remembers the OSError its write raised: torch.save reports a failed
    write (ENOSPC) as RuntimeError('... unexpected pos ...'), losing the cause."""

    def __init__(self, f):
        self._f, self.error = f, None

    def write(self, data):
        try:
            return self._f.write(data)
        except OSError as e:
            self.error = e
            raise

    def __getattr__(self, name):
        return getattr(self._f, name)


def cache_dir() -> Path:
    """$GANFORGE_CACHE, else $XDG_CACHE_HOME/ganforge, else ~/.cache/ganforge."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganforge"


def atomic_write(path, write: Callable[[BinaryIO], None], suffix: str = ".tmp", mode: int | None = None) -> Path:
    """Call write(f) on a temp file beside `path`, flush it to disk, then rename it over `path`:
    a kill or an error at any moment leaves the previous file (or none) in place, never half a file.
    The rename replaces a symlink at `path` itself, never the file it points to. A full disk raises
    DiskFull (a UserError) whatever the writer turned the OSError into."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as raw:
            f = _Recording(raw)
            try:
                write(f)
                f.flush()
                os.fsync(f.fileno())
                if mode is not None:   # mkstemp makes 0600 files
                    os.fchmod(f.fileno(), mode)
            except Exception as e:
                cause = f.error if f.error is not None else e
                if is_disk_full(cause):
                    raise DiskFull(path, free_space(path)) from None
                if f.error is not None and not isinstance(e, OSError):
                    raise f.error from None
                raise
        os.replace(tmp, path)
    except OSError as e:
        if is_disk_full(e):
            raise DiskFull(path, free_space(path)) from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def remove_stale_temps(folder, names=None) -> list[Path]:
    """Delete the temp files that atomic_write leaves in `folder` when a process is killed
    mid-write (NAME.<random>.tmp / .part), for the files `names` (default: any). Returns them."""
    removed = []
    folder = Path(folder)
    for p in folder.glob("*.*.*") if folder.is_dir() else ():
        if p.is_file() and not p.is_symlink() and p.suffix in TEMP_SUFFIXES \
                and (names is None or any(p.name.startswith(n + ".") for n in names)):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


# ----------------------------------------------------------------------------- output files

def output_file(path) -> Path:
    """Make sure `path` can be written as a file: its folder exists (created if needed), it is not
    a folder itself. Raises UserError naming the obstacle (e.g. a file where a folder must be)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a folder; give a file name")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in [parent, *parent.parents] if p.exists() and not p.is_dir()), parent)
        raise UserError(f"cannot write {path}: {blocker} is a file, not a folder") from None
    except OSError as e:
        if is_disk_full(e):
            raise DiskFull(parent) from None
        raise UserError(f"cannot create folder {parent}: {e.strerror}") from None
    return path


def write_output(path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a user-facing output file through atomic_write (temp file + rename: never half a file,
    never through a symlink already at `path`), turning every OS error into one UserError."""
    path = output_file(path)
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        if path.exists() and not path.is_symlink() and not path.is_file():   # /dev/null, a FIFO: write into it,
            with open(path, "wb") as f:                                        # never replace the node itself
                rec = _Recording(f)
                try:
                    write(rec)
                    f.flush()
                except Exception as e:
                    cause = rec.error if rec.error is not None else e
                    if is_disk_full(cause):
                        raise DiskFull(path) from None
                    raise
            return path
        return atomic_write(path, write, mode=0o666 & ~umask)
    except UserError:
        raise
    except OSError as e:
        if is_disk_full(e):
            raise DiskFull(path) from None
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None


def save_pil(img, path, **kw) -> Path:
    """Save a PIL image to `path` (format from the suffix) through write_output."""
    from PIL import Image

    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"cannot write {path}: unknown image type {path.suffix or '(no suffix)'!r}; "
                        "use .png or .jpg")
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    try:
        return write_output(path, lambda f: img.save(f, format=fmt, **kw))
    except (ValueError, KeyError) as e:
        raise UserError(f"cannot write {path}: {e}") from None


def save_figure(fig, path, **kw) -> Path:
    """Save a matplotlib figure to `path` (format from the suffix) through write_output."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in fig.canvas.get_supported_filetypes():
        raise UserError(f"cannot write {path}: unknown figure type {path.suffix or '(no suffix)'!r}; use .png, "
                        ".pdf or .svg")
    try:
        return write_output(path, lambda f: fig.savefig(f, format=fmt, **kw))
    except ValueError as e:
        raise UserError(f"cannot write {path}: {e}") from None


def write_text_output(path, text: str) -> Path:
    return write_output(path, lambda f: f.write(text.encode()))
