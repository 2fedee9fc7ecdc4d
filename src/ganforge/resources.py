"""How much memory a setting needs, checked before allocating: a refusal with the figure beats an
allocator traceback or the kernel's OOM killer."""
from __future__ import annotations

import os

from .errors import UserError

MEMORY_ENV = "GANFORGE_MAX_MEMORY"   # bytes; caps what the checks below treat as available (tests use it)


def available_memory() -> int:
    """Bytes this process can still allocate: MemAvailable (Linux), else the physical memory;
    $GANFORGE_MAX_MEMORY lowers it."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62
    cap = os.environ.get(MEMORY_ENV, "").strip()
    if cap.isdigit():
        avail = min(avail, int(cap))
    return avail


def human(nbytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(nbytes) < 1000 or unit == "PB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:.1f} EB"


def check_fits(nbytes: float, what: str, hint: str = "", share: float = 0.8) -> None:
    """UserError when `what` needs more than `share` of the available memory."""
    avail = available_memory()
    if nbytes > share * avail:
        raise UserError(f"{what} needs about {human(nbytes)} of memory, more than the {human(avail)} available"
                        + (f"; {hint}" if hint else ""))
