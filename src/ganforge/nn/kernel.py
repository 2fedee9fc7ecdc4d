"""Builds and loads _gru_kernel.c, the GRU recurrence in C, on first use.

The file is compiled once per source version and CPU with the system C compiler (`cc -O3
-march=native -fopenmp`, under a second) into ~/.cache/ganforge/kernels (or $GANFORGE_CACHE) and
loaded with ctypes after torch, so that its OpenMP threads are torch's own. Where there is no
compiler, the build fails, or GANFORGE_GRU_KERNEL=0 is set, `load()` returns None and
ganforge.nn.GRU runs the same maths in PyTorch operations instead.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

SOURCE = Path(__file__).with_name("_gru_kernel.c")
MAX_HIDDEN = 1024       # MAX_H in the C file
FLAGS = ["-O3", "-march=native", "-fno-trapping-math", "-shared", "-fPIC", "-fopenmp", "-std=gnu11"]
_lib: ctypes.CDLL | None = None
_tried = False


def cache_dir() -> Path:
    from ..files import cache_dir as root

    return root() / "kernels"


def _cpu_id() -> str:
    """What -march=native depends on, so a cache shared between machines never runs foreign code."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features", "model name")):
                flags += line
    except OSError:
        pass
    return platform.machine() + platform.processor() + flags


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc", "clang"):
        exe = name.split()[0] if name else None
        if exe and shutil.which(exe):
            return exe
    return None


def _build(target: Path) -> None:
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC)")
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    # compilers without OpenMP (Apple clang) or -march=native still build it, single-threaded / generic
    for drop in ((), ("-fopenmp",), ("-fopenmp", "-march=native")):
        flags = [f for f in FLAGS if f not in drop]
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            built = Path(tmp) / target.name
            proc = subprocess.run([cc, *flags, str(SOURCE), "-o", str(built)], capture_output=True, text=True)
            if proc.returncode == 0:
                os.replace(built, target)      # atomic: a concurrent process sees no file or a whole one
                return
            errors.append(proc.stderr.strip()[-300:])
    raise RuntimeError(f"{cc} failed: {errors[-1]}")


def _private_dir(folder: Path) -> None:
    """The kernel folder is created 0700; an existing one must be ours and writable by us alone,
    since whatever library lies in it gets loaded into this process."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = folder.stat()
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise RuntimeError(f"{folder} belongs to another user; not loading code from it")
    if st.st_mode & 0o022:
        os.chmod(folder, st.st_mode & ~0o022)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(target: Path) -> None:
    """Write the built library's SHA-256 beside it (0600), for _trusted() to compare on later loads."""
    os.chmod(target, 0o700)
    from ..files import atomic_write

    digest = _digest(target).encode()   # a temp name of its own: two ranks may build at once
    atomic_write(target.with_name(target.name + ".sha256"), lambda f: f.write(digest), mode=0o600)


def _trusted(target: Path) -> bool:
    """A cached library is loaded only if it is ours, writable by us alone, and still has the
    SHA-256 recorded when we built it (a planted, swapped or truncated file is rebuilt instead)."""
    side = target.with_name(target.name + ".sha256")
    try:
        st, sst = target.lstat(), side.lstat()
        if not target.is_file() or target.is_symlink() or side.is_symlink():
            return False
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or sst.st_uid != os.getuid()):
            return False
        if (st.st_mode | sst.st_mode) & 0o022:
            return False
        return side.read_text().strip() == _digest(target)
    except OSError:
        return False


def enabled() -> bool:
    return os.environ.get("GANFORGE_GRU_KERNEL", "1").lower() not in ("0", "false", "no", "off")


def load() -> ctypes.CDLL | None:
    """The compiled kernel, or None where it cannot be had (see the module docstring)."""
    global _lib, _tried
    if not enabled():
        return None
    if _tried:
        return _lib
    _tried = True
    if sys.platform == "win32":
        return None
    import torch  # noqa: F401  (loaded first, so the kernel binds to torch's libgomp)
    key = hashlib.sha256(SOURCE.read_bytes() + " ".join(FLAGS).encode() + _cpu_id().encode()).hexdigest()[:16]
    target = cache_dir() / f"gru-{key}{sysconfig.get_config_var('SHLIB_SUFFIX') or '.so'}"
    try:
        _private_dir(target.parent)
        if not _trusted(target):
            target.unlink(missing_ok=True)
            _build(target)
            _record(target)
        lib = ctypes.CDLL(str(target))
    except (OSError, RuntimeError) as e:
        warnings.warn(f"ganforge: GRU C kernel unavailable, using PyTorch ops instead ({e})", stacklevel=2)
        return None
    p, i = ctypes.c_void_p, ctypes.c_int
    lib.gru_forward.argtypes = [i, i, i, i, i] + [p] * 8
    lib.gru_backward.argtypes = [i, i, i, i, i] + [p] * 9
    lib.gru_forward.restype = lib.gru_backward.restype = i
    _lib = lib
    return lib
