"""An exponential moving average of a network's weights, with batch norm statistics of its own."""
from __future__ import annotations

import copy

import torch

from . import recalibrate_bn


class EMA:
    """ema.net follows `live` with decay min(decay, (1 + t) / (10 + t)) after t updates: the warm-up
    lets early samples show the training rather than the initialisation.

    The average's batch norm statistics are recomputed from its own activations (recalibrate_bn)
    when it is used after a change: .calibrated(make_input) gives the net ready for sampling."""

    def __init__(self, live: torch.nn.Module, decay: float):
        self.net = copy.deepcopy(live).eval().requires_grad_(False)
        self.decay, self.updates, self._calibrated_at = decay, 0, None

    @torch.no_grad()
    def update(self, live: torch.nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, p in zip(self.net.parameters(), live.parameters()):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(self.net.buffers(), live.buffers()):
            e.copy_(b)

    def calibrated(self, make_input) -> torch.nn.Module:
        """The net in eval mode with batch norm statistics of net(*make_input()) in training mode,
        recomputed only when it has changed since the last call; make_input must give the same
        inputs every time it is asked (a seeded generator) for the result to be deterministic."""
        if self._calibrated_at != self.updates:
            recalibrate_bn(self.net, make_input)
            self._calibrated_at = self.updates
        return self.net
