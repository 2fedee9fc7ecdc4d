"""Shared layers and small helpers for modules."""
from __future__ import annotations

import contextlib

import torch

from .init import init_normal  # noqa: F401


@contextlib.contextmanager
def eval_mode(net: torch.nn.Module):
    """Run `net` in eval mode inside the block and give it back in the mode it had."""
    was = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was)


def spectral_norm_all(net: torch.nn.Module) -> torch.nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every conv and linear layer of `net`: each
    weight is divided by an estimate of its largest singular value (one power iteration per
    forward, in training mode), so every layer is about 1-Lipschitz."""
    from torch.nn.utils.parametrizations import spectral_norm

    for m in list(net.modules()):
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.ConvTranspose2d)):
            spectral_norm(m)
    return net
