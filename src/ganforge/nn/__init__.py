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
