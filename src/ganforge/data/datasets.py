"""The named image datasets: mnist5k (embedded), mnist, fashion-mnist, cifar10 (downloaded),
synthetic:CxHxW[:N]; folder:PATH and packed:DIR go through data.source. load_images is the one entry.
"""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError, did_you_mean
from . import download
from .images import BUILTIN, ImageData, convert

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

_MNIST_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# name -> files (file name -> (urls, md5)); the sources are the datasets' canonical pages.
REMOTE = {
    "mnist": {
        "train-images-idx3-ubyte.gz": ([u + "train-images-idx3-ubyte.gz" for u in _MNIST_MIRRORS],
                                       "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": ([u + "train-labels-idx1-ubyte.gz" for u in _MNIST_MIRRORS],
                                       "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": ([u + "t10k-images-idx3-ubyte.gz" for u in _MNIST_MIRRORS],
                                      "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": ([u + "t10k-labels-idx1-ubyte.gz" for u in _MNIST_MIRRORS],
                                      "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": ([_FASHION_URL + "train-images-idx3-ubyte.gz"], "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": ([_FASHION_URL + "train-labels-idx1-ubyte.gz"], "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": ([_FASHION_URL + "t10k-images-idx3-ubyte.gz"], "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": ([_FASHION_URL + "t10k-labels-idx1-ubyte.gz"], "bb300cfdad3c16e7a12a480ee83cd310"),
    },
    "cifar10": {
        "cifar-10-python.tar.gz": (["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"],
                                   "c58f30108f718f92721af3b95e74349a"),
    },
}
DESCRIPTIONS = {
    "mnist5k": "5,000 MNIST digits, 500 per class (embedded; 4,000 train / 1,000 test)",
    "mnist": "MNIST handwritten digits, 60,000 train / 10,000 test, 28x28 gray",
    "fashion-mnist": "Fashion-MNIST clothing, 60,000 train / 10,000 test, 28x28 gray",
    "cifar10": "CIFAR-10, 50,000 train / 10,000 test, 32x32 colour",
}
NAMED = tuple(DESCRIPTIONS)
ONE_SPLIT = ("folder", "packed", "synthetic")   # kinds of dataset with no test split of their own


def load_images(spec: str, split: str = "train", channels: int = 0, size: int = 0,
                strict: bool = False, progress: bool = True, memory: float = 0.0, stream: bool = False) -> ImageData:
    """Load a dataset by name and convert it to `channels` (1 or 3) and `size` (square) if given.

    split: "train", "test" or "all" (folder:, packed: and synthetic: datasets have one split).
    memory (GB, 0: automatic), stream: how folder: and packed: data reach the loop (data.source.route).
    """
    if split not in ("train", "test", "all"):
        raise UserError(f"split must be train, test or all, got {split!r}")
    kind, _, arg = spec.partition(":")
    if kind in ("folder", "packed"):
        from .source import open_image_source

        return open_image_source(spec, channels, size, strict, progress, memory, stream)
    elif kind == "synthetic":
        data = synthetic(arg)
    elif spec == "mnist5k":
        data = _mnist5k(split)
    elif spec in ("mnist", "fashion-mnist"):
        data = _idx_dataset(spec, split, progress)
    elif spec == "cifar10":
        data = _cifar10(split, progress)
    else:
        raise did_you_mean("dataset", spec, NAMED + ("folder:PATH", "synthetic:CxHxW"))
    return convert(data, channels, size)


def _mnist5k(split: str) -> ImageData:
    with np.load(BUILTIN / "mnist5k.npz") as f:
        images, labels = torch.from_numpy(f["images"]), torch.from_numpy(f["labels"]).long()
    # Fixed stratified split: the last 100 images of each class (in file order) are held out.
    test = torch.zeros(len(labels), dtype=torch.bool)
    for c in range(10):
        test[(labels == c).nonzero().flatten()[-100:]] = True
    keep = {"train": ~test, "test": test, "all": torch.ones_like(test)}[split]
    return ImageData("mnist5k", images[keep][:, None], labels[keep], MNIST_CLASSES)


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (optionally gzipped): magic 0 0 type ndim, big-endian int32 dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise UserError(f"cannot read IDX file {path}: {e}") from None
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in dtypes:
        raise UserError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, ">i4", count=ndim, offset=4).astype(int)
    dtype = np.dtype(dtypes[raw[2]])
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)) * dtype.itemsize:
        raise UserError(f"{path} is truncated or corrupt: header says {tuple(dims)}, "
                        f"data has {len(raw) - offset} bytes")
    return np.frombuffer(raw, dtype, offset=offset).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_dataset(name: str, split: str, progress: bool) -> ImageData:
    root = download.cache_dir() / name
    parts = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    images, labels = [], []
    for p in parts:
        files = {}
        for kind in ("images-idx3", "labels-idx1"):
            fname = f"{p}-{kind}-ubyte.gz"
            urls, md5 = REMOTE[name][fname]
            files[kind] = download.fetch(urls, root / fname, md5, progress)
        images.append(torch.from_numpy(read_idx(files["images-idx3"]).copy()))
        labels.append(torch.from_numpy(read_idx(files["labels-idx1"]).astype(np.int64)))
    classes = MNIST_CLASSES if name == "mnist" else FASHION_CLASSES
    return ImageData(name, torch.cat(images)[:, None], torch.cat(labels), classes)


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches without running code: the only callables a batch needs are numpy's
    array reconstruction; anything else (os.system, eval, ...) is refused before it is looked up."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"),
               ("_codecs", "encode")}   # bytes pickled by Python 3 at protocol 2: str -> bytes, no code

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (a CIFAR batch holds only arrays)")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> images (N, 3, 32, 32) uint8, labels (N,).

    These files are pickles, read from the cache, where anyone who could write there could plant
    one: _BatchUnpickler only rebuilds numpy arrays, and the result is checked for shape and type.
    """
    try:
        with open(path, "rb") as f:
            d = _BatchUnpickler(f, encoding="bytes").load()
        data, labels = d[b"data"], d[b"labels"]
        images = np.asarray(data, np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(labels, np.int64)
        if len(labels) != len(images) or (len(labels) and not 0 <= labels.min() <= labels.max() <= 9):
            raise ValueError(f"{len(images)} images but {len(labels)} labels, or labels outside 0..9")
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError,
            IndexError) as e:
        raise UserError(f"{path} is not a CIFAR-10 batch ({e}); delete {path.parent} to extract it again") from None
    return images, labels


def _cifar10(split: str, progress: bool) -> ImageData:
    root = download.cache_dir() / "cifar10"
    (fname, (urls, md5)), = REMOTE["cifar10"].items()
    archive = download.fetch(urls, root / fname, md5, progress)
    folder = download.extract_tar(archive, root / "extracted") / "cifar-10-batches-py"
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    names["all"] = names["train"] + names["test"]
    batches = [read_cifar_batch(folder / n) for n in names[split]]
    images = torch.from_numpy(np.concatenate([b[0] for b in batches]))
    labels = torch.from_numpy(np.concatenate([b[1] for b in batches]))
    return ImageData("cifar10", images, labels, CIFAR_CLASSES)


def synthetic(arg: str) -> ImageData:
    """'CxHxW' or 'CxHxW:N': N (default 1024) random images from a fixed seed, for smoke tests."""
    shape, _, n = arg.partition(":")
    try:
        c, h, w = (int(v) for v in shape.lower().split("x"))
        n = int(n) if n else 1024
        assert c in (1, 3) and h > 0 and w > 0 and n > 0
    except (ValueError, AssertionError):
        raise UserError(f"synthetic dataset wants synthetic:CxHxW[:N] with C 1 or 3, got synthetic:{arg}") from None
    from ..resources import check_fits

    check_fits(n * c * h * w, f"synthetic:{arg} ({n:,} images of {c}x{h}x{w})", "use fewer or smaller images")
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, c, h, w), generator=g, dtype=torch.uint8)
    return ImageData(f"synthetic:{arg}", images)


def status(name: str) -> str:
    """'embedded', 'cached', 'partly cached' or 'not downloaded'."""
    if name == "mnist5k":
        return "embedded"
    root = download.cache_dir() / name
    have = sum((root / f).is_file() for f in REMOTE[name])
    return "cached" if have == len(REMOTE[name]) else "partly cached" if have else "not downloaded"


def download_dataset(name: str, progress: bool = True) -> Path:
    if name not in REMOTE:
        raise did_you_mean("downloadable dataset", name, REMOTE)
    root = download.cache_dir() / name
    for fname, (urls, md5) in REMOTE[name].items():
        download.fetch(urls, root / fname, md5, progress)
    return root
