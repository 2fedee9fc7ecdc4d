"""Deterministic, resumable, shardable batches of indices into an in-memory dataset."""
from __future__ import annotations

import torch

from ..errors import UserError


class BatchSampler:
    """indices(step) -> LongTensor (batch_size,), a pure function of (seed, step, rank).

    Each epoch is one permutation drawn from seed + epoch; epoch e's steps take consecutive
    slices of it, and rank r of `world` takes every world-th slice, so DDP ranks never see the
    same image in an epoch. Resuming at step s needs nothing but s.
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int = 0, world: int = 1):
        if batch_size * world > n:
            raise UserError(f"--batch-size {batch_size} is larger than the dataset ({n} images)"
                            + (f" split over {world} processes" if world > 1 else ""))
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.steps_per_epoch = n // (batch_size * world)
        self._epoch, self._perm = -1, None

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        start = (i * self.world + self.rank) * self.batch_size
        return self._perm[start:start + self.batch_size]
