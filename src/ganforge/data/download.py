"""Cached, checksum-verified downloads. Files land in cache_dir() only after their MD5 matches,
through a temp file and a rename, so a half-finished download never looks like a good one."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import UserError

from ..files import CACHE_ENV, atomic_write, cache_dir  # noqa: F401  (cache_dir: re-exported)


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def record_path(path: Path) -> Path:
    """Where fetch() records the length and SHA-256 of a download whose source publishes no checksum."""
    return path.with_name(path.name + ".verified.json")


def recorded(path: Path) -> dict | None:
    import json

    try:
        rec = json.loads(record_path(path).read_text())
        return rec if isinstance(rec, dict) else None
    except (OSError, ValueError):
        return None


def is_cached(path: Path, md5: str | None) -> bool:
    """A cached file counts only when it still matches its checksum, or, for sources without one,
    the length recorded when it was downloaded (a file placed there by hand has no record: accepted)."""
    if not path.is_file():
        return False
    if md5 is not None:
        return md5sum(path) == md5
    rec = recorded(path)
    return rec is None or rec.get("size") == path.stat().st_size


def fetch(urls: list[str] | str, dest: Path, md5: str | None, progress: bool = True) -> Path:
    """Return `dest`, downloading it from the first URL that works when it is missing or wrong.

    `md5` None means the source publishes no checksum; the file is then only size-checked
    against the server's Content-Length.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    if is_cached(dest, md5):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the cache folder {dest.parent}: {e.strerror}; set {CACHE_ENV}") from None
    errors = []
    if dest.is_file():   # present but failing its check: say so, then replace it
        print(f"warning: cached {dest} does not match its checksum or recorded length; downloading it again",
              file=sys.stderr)
    for url in urls:
        try:
            _download(url, dest, md5, progress)
            if md5 is None:
                import json

                atomic_write(record_path(dest), lambda f: f.write(json.dumps(
                    {"url": url, "size": dest.stat().st_size, "sha256": sha256sum(dest)}).encode()))
            return dest
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
    raise UserError(
        f"could not download {dest.name}:\n  " + "\n  ".join(errors)
        + f"\nWithout internet, download {urls[0]} by hand and place it at {dest}"
        + (f" (MD5 {md5})" if md5 else "")
    )


def _download(url: str, dest: Path, md5: str | None, progress: bool) -> None:
    from tqdm import tqdm

    def write(out) -> None:
        with urllib.request.urlopen(url, timeout=30) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            digest, size = hashlib.md5(), 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    size += len(block)
                    bar.update(len(block))
        if total is not None and size != total:
            raise ValueError(f"truncated download: {size} of {total} bytes")
        if md5 is not None and (got := digest.hexdigest()) != md5:
            raise ValueError(f"checksum mismatch: MD5 {got}, expected {md5}")

    atomic_write(dest, write, suffix=".part")


def extract_tar(archive: Path, dest: Path) -> Path:
    """Extract into a temp folder beside `dest`, then rename: `dest` exists only when complete."""
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=dest.name + ".part"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp, dest)
    except (tarfile.TarError, OSError) as e:
        raise UserError(f"cannot extract {archive}: {e}; delete it and download again") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest
