"""Rebuild whatever a checkpoint holds from the checkpoint alone (nanoGPT's sample.py rule)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def load(path: str | Path, task: str | tuple[str, ...] | None = None):
    """Rebuild whatever a checkpoint holds (a GAN Generator, ...) from the checkpoint alone."""
    from ..nn import checkpoint

    return rebuild(checkpoint.load(path, task))


def rebuild(ckpt: dict):
    """The model of a loaded checkpoint dict; a payload with values of the wrong kind inside is one UserError."""
    from ..tasks import task_module

    try:
        return task_module(ckpt["task"]).load(ckpt)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:   # a value of the wrong kind inside
        raise UserError(f"{ckpt['path']} is damaged or from an incompatible ganforge: cannot rebuild its model "
                        f"({type(e).__name__}: {str(e)[:200]})") from None
