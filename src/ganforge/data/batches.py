"""uint8 batches by step, for every path image data takes (data.source):

    batches = Batches(images, labels, sampler, workers=cfg.workers)
    x, y = batches.get(step)        # images[sampler.indices(step)], labels[...] (y None without labels)

In memory, get() indexes the tensor (on the GPU when Runtime.place put it there). Streaming and
packed images are read ahead, in step order, by `workers` DataLoader processes (0: in this one);
a step out of order (the first, or a resume) restarts the read-ahead there. The batch of a step
depends on nothing but (seed, step, rank, world) through the sampler, so a resumed run, any
--workers and any path give the same batches. Files that fail mid-run are skipped and reported.
"""
from __future__ import annotations

import itertools
import signal
import sys

import torch

from .lazy import report_skipped

PREFETCH = 4   # batches each worker reads ahead


class _Steps(torch.utils.data.Dataset):
    """step -> (uint8 images (B, C, H, W), labels (B,) or None, skipped-file messages)."""

    def __init__(self, images, labels, sampler):
        self.images, self.labels, self.sampler = images, labels, sampler

    def __getitem__(self, step: int):
        idx = self.sampler.indices(step).numpy()
        x, skipped = self.images.read(idx)
        return x, None if self.labels is None else self.labels[idx], skipped


class _From(torch.utils.data.Sampler):
    """start, start + 1, ... (the loop decides when to stop)."""

    def __init__(self, start: int):
        self.start = start

    def __iter__(self):
        return itertools.count(self.start)


def _as_is(item):
    return item


def _worker_init(_worker_id: int) -> None:
    # Ctrl-C reaches the whole process group: the loop finishes its step and saves a checkpoint,
    # which needs the workers alive until it shuts them down (a worker that quit on SIGINT would
    # fail that last step with 'DataLoader worker exited unexpectedly').
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Batches:
    """images: an in-memory uint8 tensor (N, C, H, W) or a lazy one (data.lazy); labels (N,) or None;
    sampler: a data.sampler.BatchSampler over the N images."""

    def __init__(self, images, labels, sampler, workers: int = 0):
        self.images, self.labels, self.sampler, self.workers = images, labels, sampler, workers
        self.lazy = not isinstance(images, torch.Tensor)
        self._it, self._next, self.skipped = None, None, 0

    def get(self, step: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(uint8 images (B, C, H, W), labels (B,) or None) of sampler step `step`."""
        if not self.lazy:
            idx = self.sampler.indices(step).to(self.images.device)
            y = None if self.labels is None else self.labels[idx.to(self.labels.device)]
            return self.images[idx], y
        if self._it is None or step != self._next:
            self.close()
            labels = None if self.labels is None else self.labels.cpu()
            loader = torch.utils.data.DataLoader(
                _Steps(self.images, labels, self.sampler), batch_size=None, sampler=_From(step), collate_fn=_as_is,
                num_workers=self.workers, prefetch_factor=PREFETCH if self.workers else None,
                generator=torch.Generator(),   # its own: starting a loader draws a seed, never from the run's RNG
                worker_init_fn=_worker_init,
                pin_memory=self.workers > 0 and torch.cuda.is_available())   # pinned in a background thread
            self._it = iter(loader)
        x, y, skipped = next(self._it)
        self._next = step + 1
        if skipped:
            self.skipped += len(skipped)
            report_skipped(skipped)
        if y is not None and self.labels is not None:
            y = y.to(self.labels.device)
        return x, y

    def close(self) -> None:
        """Stop the worker processes (they also stop when this object is collected)."""
        it, self._it = self._it, None
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()


def announce(data, workers: int, is_main: bool = True, what: str = "data") -> dict:
    """Say on stderr (rank 0) which path the data takes and why; returns the same for sessions.jsonl."""
    source = getattr(data, "source", "in-memory")
    why = getattr(data, "why", "") or "a built-in or generated dataset"
    if source != "in-memory":
        why += f"; {workers} worker process(es) read ahead" if workers else "; read in the main process (--workers 0)"
    if is_main:
        print(f"{what}: {source} {data.name} ({why})", file=sys.stderr)
    return {f"{what}_source": source, f"{what}_why": why}
