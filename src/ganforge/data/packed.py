"""Packed datasets: a folder of images resized once into uint8 .npy shards that every process
memory-maps (`ganforge datasets pack folder:PATH -o DIR`, then `--data packed:DIR`).

    DIR/manifest.json        format, version, count, shape (C, S, S), shards, labels, classes, skipped
    DIR/images-00000.npy     uint8 (n, C, S, S), at most SHARD_BYTES each
    DIR/labels.npy           int64 (N,), when the folder has the ImageFolder layout

Reading maps the shards: the pages come from the page cache, which every process (every torchrun
rank, every DataLoader worker) shares, instead of each holding its own copy. The manifest is written
last, so a pack that was interrupted is refused as incomplete rather than read half-written.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..files import write_output
from .images import ImageData, convert_batch
from .lazy import LazyImages

FORMAT = "ganforge-packed"
VERSION = 1
SHARD_BYTES = 1 << 30
MANIFEST = "manifest.json"


class PackedImages(LazyImages):
    """The images of a packed dataset, read from memory-mapped shards (and converted per batch to
    `channels` / `size` when those differ from the packed ones)."""

    kind = "packed"

    def __init__(self, files: list[Path], counts: list[int], shape, channels: int = 0, size: int = 0):
        c, s, _ = shape
        super().__init__(sum(counts), (channels or c, size or s, size or s))
        self.files, self.stored = [str(f) for f in files], tuple(shape)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.channels, self.side = channels, size
        self._maps = None

    def __getstate__(self):   # worker processes map the shards themselves; never pickle the pages
        return {**self.__dict__, "_maps": None}

    def _open(self) -> list[np.ndarray]:
        if self._maps is None:
            self._maps = [np.load(f, mmap_mode="r") for f in self.files]
        return self._maps

    def read(self, idx: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        maps = self._open()
        shard = np.searchsorted(self.offsets, idx, side="right") - 1
        out = np.empty((len(idx), *self.stored), np.uint8)
        for s in np.unique(shard):
            m = shard == s
            out[m] = maps[s][idx[m] - self.offsets[s]]
        return convert_batch(torch.from_numpy(out), self.channels, self.side), []


def _bad(root: Path, what: str) -> UserError:
    return UserError(f"packed dataset {root}: {what}; pack it again with `ganforge datasets pack`")


def read_manifest(root: Path) -> dict:
    """The manifest of a packed dataset, checked (format, version, fields)."""
    path = root / MANIFEST
    if not root.is_dir():
        raise UserError(f"packed dataset {root} does not exist (make one with `ganforge datasets pack "
                        f"folder:PATH -o {root}`)")
    if not path.is_file():
        raise UserError(f"{root} is not a packed dataset, or its packing did not finish (no {MANIFEST}); "
                        f"make one with `ganforge datasets pack folder:PATH -o {root}`")
    try:
        m = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise _bad(root, f"{MANIFEST} cannot be read ({e})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise _bad(root, f"{MANIFEST} is not a {FORMAT} manifest")
    version = m.get("version")
    if not isinstance(version, int) or version < 1:
        raise _bad(root, f"{MANIFEST} has no valid format version")
    if version > VERSION:
        raise UserError(f"packed dataset {root} is in format version {version}, newer than this ganforge reads "
                        f"(up to {VERSION}): upgrade ganforge, or pack the folder again with this one")
    try:
        shape = [int(v) for v in m["shape"]]
        shards = [(str(s["file"]), int(s["count"])) for s in m["shards"]]
        assert len(shape) == 3 and shape[0] in (1, 3) and shape[1] == shape[2] > 0 and shards
        assert all(c > 0 and Path(f).name == f for f, c in shards) and sum(c for _, c in shards) == m["count"]
    except (KeyError, TypeError, ValueError, AssertionError):
        raise _bad(root, f"{MANIFEST} is damaged (shape, shards or count)") from None
    return m


def open_packed(root: Path, channels: int = 0, size: int = 0) -> ImageData:
    """`--data packed:DIR` -> ImageData whose .images are PackedImages; checks every shard's header
    (a missing or truncated shard is an error now, not in the middle of a run)."""
    root = Path(root)
    m = read_manifest(root)
    shape = tuple(int(v) for v in m["shape"])
    files, counts = [], []
    for name, count in ((s["file"], int(s["count"])) for s in m["shards"]):
        f = root / name
        if not f.is_file():
            raise _bad(root, f"shard {name} is missing")
        try:
            arr = np.load(f, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise _bad(root, f"shard {name} is damaged or truncated ({e})") from None
        if arr.dtype != np.uint8 or arr.shape != (count, *shape):
            raise _bad(root, f"shard {name} holds {arr.dtype} {arr.shape}, the manifest says uint8 {(count, *shape)}")
        files.append(f)
        counts.append(count)
    labels = None
    if m.get("labels"):
        try:
            labels = torch.from_numpy(np.load(root / m["labels"]).astype(np.int64))
        except (OSError, ValueError) as e:
            raise _bad(root, f"labels {m['labels']} cannot be read ({e})") from None
        classes = m.get("classes") or []
        if labels.shape != (m["count"],) or (len(labels) and not 0 <= labels.min() <= labels.max() < len(classes)):
            raise _bad(root, f"labels {m['labels']} do not match the {m['count']} images and {len(classes)} classes")
    images = PackedImages(files, counts, shape, channels, size)
    c, s, _ = shape
    why = (f"memory-mapped {m['count']:,} images of {c}x{s}x{s} in {len(files)} shard(s)"
           + (f", converted per batch to {'x'.join(map(str, images.image_shape))}" if images.image_shape != shape else ""))
    return ImageData(f"packed:{root}", images, labels, m.get("classes") if labels is not None else None, "packed", why)


# ------------------------------------------------------------------------------ packing

def own_size(sizes: list[tuple[int, int]]) -> tuple[int, str]:
    """(square side, why) a pack keeps when no --size is given: the images' own side when they all share
    one, else the most common short side (the larger on a tie), within 8..4096; never an upsampling
    default that multiplies the pack's bytes."""
    from collections import Counter

    shorts = Counter(min(w, h) for w, h in sizes)
    side, count = max(shorts.items(), key=lambda kv: (kv[1], kv[0]))
    size = min(max(side, 8), 4096)
    if len(set(sizes)) == 1:
        w, h = sizes[0]
        why = f"the images' own size, {w}x{h}" + ("" if w == h else ", centre square")
    else:
        why = (f"the most common short side, {side} px, of {count:,} of {len(sizes):,} images "
               f"(short sides {min(shorts)}..{max(shorts)} px)")
    if size != side:
        why += ", kept within 8..4096"
    return size, why


def pack_folder(folder: Path, out: Path, size: int | None = None, channels: int = 3, workers: int = 0,
                strict: bool = False, progress: bool = True, shard_bytes: int = SHARD_BYTES) -> dict:
    """Index `folder`, decode and resize every image once (in `workers` processes), and write the
    shards, labels and manifest into `out`. size None: the folder's own size (own_size), with the
    reason in the manifest's "size_rule". Returns the manifest."""
    from tqdm import tqdm

    from .index import index_folder
    from .lazy import StreamImages

    folder, out = Path(folder), Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"cannot write {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise UserError(f"{out} is a folder that holds other files; give a new or empty folder (or a packed "
                        "dataset to replace)")
    index = index_folder(folder, channels, strict=strict, progress=progress)
    rule = f"--size {size}"
    if size is None and index.sizes:
        size, rule = own_size(index.sizes)
    size = size or 8   # no readable image: refused below
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)   # the old pack is gone from here on: never half of each
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror}") from None
    per_shard = max(1, shard_bytes // (channels * size * size))
    source = StreamImages(index.paths, channels, size)
    loader = torch.utils.data.DataLoader(_OneByOne(source), batch_size=64, num_workers=workers, collate_fn=list)
    writer = _ShardWriter(out, per_shard, (channels, size, size))
    labels, skipped = [], []
    bar = tqdm(total=len(source), desc=f"packing {folder.name or folder}", unit="img", file=sys.stderr,
               disable=None if progress else True, mininterval=0.5)
    try:
        for batch in loader:
            for i, image, error in batch:
                if error:
                    if strict:
                        raise UserError(error)
                    skipped.append(error)
                else:
                    writer.add(image)
                    if index.labels is not None:
                        labels.append(index.labels[i])
            bar.update(len(batch))
        shards = writer.finish()
    finally:
        bar.close()
        writer.cleanup()
    if not shards:
        raise UserError(f"image folder {folder} holds no readable images")
    if skipped:
        print(f"warning: skipped {len(skipped)} image(s) that could not be decoded:", file=sys.stderr)
        for msg in skipped[:10]:
            print("  " + msg, file=sys.stderr)
    if labels:
        write_output(out / "labels.npy", lambda f: np.save(f, np.asarray(labels, np.int64)))
    else:
        (out / "labels.npy").unlink(missing_ok=True)
    manifest = {"format": FORMAT, "version": VERSION, "count": sum(s["count"] for s in shards),
                "shape": [channels, size, size], "dtype": "uint8", "shards": shards,
                "labels": "labels.npy" if labels else None, "classes": index.classes if labels else None,
                "source": str(folder.resolve()), "skipped": index.bad + len(skipped), "size_rule": rule}
    keep = {s["file"] for s in shards} | {"labels.npy", MANIFEST}
    for old in out.glob("images-*.npy"):   # shards of an earlier, larger pack in the same folder
        if old.name not in keep:
            old.unlink()
    write_output(out / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))
    return manifest


class _OneByOne(torch.utils.data.Dataset):
    """(position, uint8 (C, S, S) array or None, error or None) per image: packing skips what fails."""

    def __init__(self, source):
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int):
        from .index import decode_square

        try:
            return i, decode_square(Path(self.source.paths[i]), self.source.channels, self.source.side), None
        except UserError as e:
            return i, None, str(e)


class _ShardWriter:
    """Fills memory-mapped .npy shards in order (a temp file each, renamed when complete)."""

    def __init__(self, out: Path, per_shard: int, shape):
        self.out, self.per_shard, self.shape = out, per_shard, tuple(shape)
        self.shards, self.current, self.tmp, self.n = [], None, None, 0

    def add(self, image: np.ndarray) -> None:   # image: (S, S, C) as decode_square returns it
        if self.current is None:
            self.tmp = self.out / f"images-{len(self.shards):05d}.npy.part"
            self.current = np.lib.format.open_memmap(self.tmp, "w+", np.uint8, (self.per_shard, *self.shape))
            self.n = 0
        self.current[self.n] = image.transpose(2, 0, 1)
        self.n += 1
        if self.n == self.per_shard:
            self._close()

    def _close(self) -> None:
        name = f"images-{len(self.shards):05d}.npy"
        if self.n < self.per_shard:   # the last shard: copy its filled part into an exactly sized file
            part = np.lib.format.open_memmap(self.out / (name + ".tmp"), "w+", np.uint8, (self.n, *self.shape))
            for start in range(0, self.n, 4096):
                stop = min(start + 4096, self.n)
                part[start:stop] = self.current[start:stop]
            part.flush()
            del part
            os.replace(self.out / (name + ".tmp"), self.out / name)
        else:
            self.current.flush()
            os.replace(self.tmp, self.out / name)
        self.current = None
        if self.tmp.exists():
            self.tmp.unlink()
        self.shards.append({"file": name, "count": self.n})

    def finish(self) -> list[dict]:
        if self.current is not None and self.n:
            self._close()
        return self.shards

    def cleanup(self) -> None:
        self.current = None
        for p in self.out.glob("images-*.npy.*"):
            p.unlink()
