"""Rebuild whatever a checkpoint holds from the checkpoint alone (nanoGPT's sample.py rule)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def load(path: str | Path, task: str | tuple[str, ...] | None = None, device="cpu"):
    """Rebuild whatever a checkpoint holds (a GAN Generator, ...) from the checkpoint alone (a file,
    a run directory or an exported model folder). device: auto | cpu | cuda | cuda:N (or a
    torch.device): where its nets live and compute; results still come back on the CPU."""
    from ..nn import checkpoint

    device = inference_device(device)   # a missing GPU is refused before the file is read
    return rebuild(checkpoint.load(path, task), device)


def inference_device(device="auto"):
    """A --device value (auto | cpu | cuda | cuda:N | mps, or a torch.device) to a torch.device;
    a GPU this machine lacks is one UserError naming the flag (the training runtime's message)."""
    import torch

    from ..engine.runtime import resolve_device

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not (device in DEVICES or (device.startswith("cuda:") and device[5:].isdigit())):
        raise UserError(f"--device must be auto, cpu, cuda, cuda:N or mps, got {device!r}")
    return resolve_device(device)


DEVICES = ("auto", "cpu", "cuda", "mps")


def rebuild(ckpt: dict, device=None):
    """The model of a loaded checkpoint dict (its nets on `device`, None: the CPU); a payload with
    values of the wrong kind inside is one UserError."""
    from ..tasks import task_module

    try:
        return task_module(ckpt["task"]).load(ckpt, device=device)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:   # a value of the wrong kind inside
        raise UserError(f"{ckpt['path']} is damaged or from an incompatible ganforge: cannot rebuild its model "
                        f"({type(e).__name__}: {str(e)[:200]})") from None
