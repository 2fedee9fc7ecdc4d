"""Image arrays read on demand, for datasets larger than memory: StreamImages decodes files (the
streaming path), data.packed.PackedImages reads memory-mapped shards (the packed path).

Both look like the uint8 (N, C, H, W) tensor of an in-memory dataset to the code that uses one:
len(x), x.shape, x[i] -> (C, H, W), x[a:b] / x[index tensor, list or bool mask] -> (B, C, H, W)
tensors, x.split(n) -> chunks, plus x.subset(idx), a lazy view (a held-out split without reading it).
For training, data.batches.Batches reads them ahead in DataLoader worker processes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError

_REPORTED: set[str] = set()


def report_skipped(messages: list[str]) -> None:
    """One warning line per unreadable file and process (workers send their messages with the batch)."""
    for msg in messages:
        if msg not in _REPORTED:
            _REPORTED.add(msg)
            print(f"warning: {msg}", file=sys.stderr)


class LazyImages:
    """uint8 images (N, C, H, W) read when indexed; subclasses implement read()."""

    dtype = torch.uint8
    device = torch.device("cpu")
    ndim = 4
    kind = "lazy"

    def __init__(self, n: int, image_shape):
        self._n, self.image_shape = n, tuple(int(v) for v in image_shape)

    def read(self, idx: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        """Images idx (B,) int64 -> (uint8 (B, C, H, W), messages about files skipped on the way)."""
        raise NotImplementedError

    @property
    def shape(self) -> torch.Size:
        return torch.Size((self._n, *self.image_shape))

    def __len__(self) -> int:
        return self._n

    def numel(self) -> int:
        return self._n * int(np.prod(self.image_shape))

    def element_size(self) -> int:
        return 1

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def indices(self, key) -> np.ndarray:
        """Any index an image tensor takes along its first dimension -> int64 positions (B,)."""
        if isinstance(key, slice):
            return np.arange(self._n)[key]
        if isinstance(key, torch.Tensor):
            key = key.detach().cpu().numpy()
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (self._n,):
                raise IndexError(f"a mask of shape {idx.shape} for {self._n} images")
            return np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -self._n or idx.max() >= self._n):
            raise IndexError(f"index out of range for {self._n} images")
        return idx % max(self._n, 1)

    def __getitem__(self, key) -> torch.Tensor:
        if isinstance(key, (int, np.integer)):
            return self[[key]][0]
        if isinstance(key, tuple):   # x[i, c], x[a:b, :, ::2]: images first, the rest on the tensor
            first = self[key[0]]
            return first[key[1:]] if isinstance(key[0], (int, np.integer)) else first[(slice(None), *key[1:])]
        x, skipped = self.read(self.indices(key))
        report_skipped(skipped)
        return x

    def subset(self, key) -> "LazyImages":
        return SubsetImages(self, self.indices(key))

    def split(self, n: int):
        for start in range(0, self._n, n):
            yield self[start:start + n]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._n} images of {'x'.join(map(str, self.image_shape))})"


class SubsetImages(LazyImages):
    """Some images of another lazy array, by position (a train or held-out split)."""

    def __init__(self, base: LazyImages, idx: np.ndarray):
        super().__init__(len(idx), base.image_shape)
        self.base, self.idx, self.kind = base, np.asarray(idx, np.int64), base.kind

    def read(self, idx: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        return self.base.read(self.idx[idx])


class StreamImages(LazyImages):
    """Image files decoded (and resized: data.index.decode_square, as the in-memory path does) when
    read. An image that fails now (changed or corrupt since it was indexed) is skipped and
    reported: the next readable file in folder order takes its place, so a batch keeps its size and
    stays the same on every run."""

    kind = "streaming"

    def __init__(self, paths: list[Path], channels: int, size: int):
        super().__init__(len(paths), (channels, size, size))
        self.paths = [str(p) for p in paths]
        self.channels, self.side = channels, size

    def read(self, idx: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        from .index import decode_square

        out = np.empty((len(idx), self.side, self.side, self.channels), np.uint8)
        skipped: list[str] = []
        for j, i in enumerate(idx):
            for k in range(self._n):
                path = self.paths[(int(i) + k) % self._n]
                try:
                    out[j] = decode_square(Path(path), self.channels, self.side)
                    break
                except UserError as e:
                    skipped.append(f"skipped {e} (the next image in the folder takes its place)")
            else:
                raise UserError(f"none of the {self._n} images indexed could be read any more")
        return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous(), skipped
