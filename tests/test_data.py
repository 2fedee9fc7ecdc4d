import gzip
import hashlib
import pickle
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import BatchSampler, datasets, download, images, load_images, to_float, to_uint8
from ganforge.errors import UserError


def write_idx(path, array: np.ndarray):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_mnist5k_split_is_stratified_and_disjoint():
    train, test = load_images("mnist5k", "train"), load_images("mnist5k", "test")
    assert train.images.shape == (4000, 1, 28, 28) and test.images.shape == (1000, 1, 28, 28)
    assert train.images.dtype == torch.uint8
    assert torch.bincount(test.labels).tolist() == [100] * 10
    assert len(load_images("mnist5k", "all")) == 5000


def test_float_round_trip():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    f = to_float(x)
    assert f.min() == -1 and f.max() == 1
    assert torch.equal(to_uint8(f), x)


def test_convert_channels_and_size():
    data = load_images("synthetic:1x28x28:8", channels=3, size=32)
    assert data.images.shape == (8, 3, 32, 32)
    assert torch.equal(data.images[:, 0], data.images[:, 1])


def test_read_idx_plain_and_gzip(tmp_path):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        write_idx(tmp_path / name, arr)
        assert np.array_equal(datasets.read_idx(tmp_path / name), arr)


def test_read_idx_rejects_truncated_and_foreign(tmp_path):
    write_idx(tmp_path / "x", np.zeros((4, 5), np.uint8))
    (tmp_path / "x").write_bytes((tmp_path / "x").read_bytes()[:-3])
    with pytest.raises(UserError, match="truncated"):
        datasets.read_idx(tmp_path / "x")
    (tmp_path / "y").write_bytes(b"hello world")
    with pytest.raises(UserError, match="not an IDX"):
        datasets.read_idx(tmp_path / "y")


def test_mnist_download_from_mirror_then_cached(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    src.mkdir()
    remote = {}
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("t10k", 4)):
        write_idx(src / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(src / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
        for kind in ("images-idx3", "labels-idx1"):
            f = src / f"{split}-{kind}-ubyte.gz"
            remote[f.name] = (["file:///nonexistent/" + f.name, f.as_uri()], md5(f))
    monkeypatch.setitem(datasets.REMOTE, "mnist", remote)
    assert datasets.status("mnist") == "not downloaded"
    data = load_images("mnist", "train", progress=False)
    assert data.images.shape == (6, 1, 28, 28) and data.labels.tolist() == list(range(6))
    assert datasets.status("mnist") == "partly cached"
    assert len(load_images("mnist", "all", progress=False)) == 10
    assert datasets.status("mnist") == "cached"


def test_checksum_mismatch_is_rejected_and_not_kept(tmp_path):
    f = tmp_path / "file.bin"
    f.write_bytes(b"abc")
    dest = tmp_path / "cache" / "file.bin"
    with pytest.raises(UserError, match="checksum mismatch"):
        download.fetch(f.as_uri(), dest, "0" * 32, progress=False)
    assert not dest.exists() and not list(dest.parent.glob("*.part"))


def test_offline_message_names_url_and_path(tmp_path):
    dest = tmp_path / "cache" / "cifar-10-python.tar.gz"
    with pytest.raises(UserError) as e:
        download.fetch("http://127.0.0.1:9/cifar-10-python.tar.gz", dest, "0" * 32, progress=False)
    assert "127.0.0.1:9/cifar-10-python.tar.gz" in str(e.value) and str(dest) in str(e.value)


def test_cifar10_archive_parsed_after_checksum(tmp_path, monkeypatch):
    folder = tmp_path / "build" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batch = {b"data": np.full((2, 3072), i, np.uint8), b"labels": [i % 10, 1]}
        (folder / name).write_bytes(pickle.dumps(batch))
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    monkeypatch.setitem(datasets.REMOTE, "cifar10", {archive.name: ([archive.as_uri()], md5(archive))})
    train = load_images("cifar10", "train", progress=False)
    test = load_images("cifar10", "test", progress=False)
    assert train.images.shape == (10, 3, 32, 32) and test.images.shape == (2, 3, 32, 32)
    assert train.images[9].unique().item() == 4 and test.labels.tolist() == [5, 1]
    assert train.classes[0] == "airplane"


def test_folder_loader_classes_skip_and_strict(tmp_path, capsys):
    for cls, color in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (40 + i * 10, 30), color).save(tmp_path / "imgs" / cls / f"{i}.png")
    (tmp_path / "imgs" / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    data = load_images(f"folder:{tmp_path / 'imgs'}", size=16)
    assert data.images.shape == (4, 3, 16, 16)
    assert data.classes == ["cats", "dogs"] and data.labels.tolist() == [0, 0, 1, 1]
    assert data.images[0, 0].float().mean() == 255 and data.images[3, 2].float().mean() == 255
    assert "broken.jpg" in capsys.readouterr().err
    with pytest.raises(UserError, match="broken.jpg"):
        load_images(f"folder:{tmp_path / 'imgs'}", size=16, strict=True)
    gray = load_images(f"folder:{tmp_path / 'imgs'}", channels=1, size=8)
    assert gray.images.shape == (4, 1, 8, 8)


def test_folder_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_images(f"folder:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        load_images(f"folder:{tmp_path / 'empty'}")


@pytest.mark.parametrize("spec", ["mnsit", "synthetic:2x8x8", "synthetic:axb"])
def test_bad_dataset_names(spec):
    with pytest.raises(UserError):
        load_images(spec)


def test_sampler_is_deterministic_covers_epoch_and_shards():
    s = BatchSampler(10, 2, seed=3)
    epoch = torch.cat([s.indices(i) for i in range(5)])
    assert sorted(epoch.tolist()) == list(range(10))
    assert torch.equal(BatchSampler(10, 2, seed=3).indices(7), s.indices(7))
    r0, r1 = BatchSampler(10, 2, 3, rank=0, world=2), BatchSampler(10, 2, 3, rank=1, world=2)
    both = torch.cat([torch.cat([r0.indices(i), r1.indices(i)]) for i in range(2)])
    assert len(set(both.tolist())) == 8
    with pytest.raises(UserError, match="larger than the dataset"):
        BatchSampler(10, 11)
