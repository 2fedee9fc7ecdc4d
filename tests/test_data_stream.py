"""Image data larger than memory (issue 19): the folder index, the streaming and packed paths,
and that every path gives the same batches for the same seed, also across a resume."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge.data import BatchSampler, Batches, load_images
from ganforge.data.index import index_folder
from ganforge.data.lazy import StreamImages
from ganforge.data.packed import open_packed, pack_folder
from ganforge.data.unpaired import load_unpaired
from ganforge.errors import UserError

TINY = dict(width=8, latent_dim=8, batch_size=8, progress=False, sample_every=0, image_size=16)


def make_folder(root, n_per_class=10, classes=("cats", "dogs"), size=(70, 64), seed=0):
    """JPEGs and PNGs of random pixels, one sub-folder per class (the ImageFolder layout)."""
    rng = np.random.default_rng(seed)
    for c in classes:
        for i in range(n_per_class):
            path = root / c / f"{i:03d}.{'png' if i % 3 == 0 else 'jpg'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(path)
    return root


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "imgs")


def test_index_is_cached_and_invalidates_when_a_file_changes(folder):
    first = index_folder(folder, progress=False)
    assert first.refreshed == 20 and len(first.paths) == 20 and first.classes == ["cats", "dogs"]
    assert first.sizes[0] == (70, 64)
    again = index_folder(folder, progress=False)
    assert again.refreshed == 0 and again.paths == first.paths
    changed = folder / "cats" / "001.jpg"
    Image.new("RGB", (50, 40), "red").save(changed, format="JPEG")
    st = changed.stat()
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    third = index_folder(folder, progress=False)
    assert third.refreshed == 1
    assert third.sizes[third.paths.index(changed)] == (50, 40)
    (folder / "dogs" / "new.png").write_bytes((folder / "cats" / "000.png").read_bytes())
    assert index_folder(folder, progress=False).refreshed == 1   # only the new file's header is read


def test_same_seed_same_batches_in_memory_streaming_and_packed(folder, tmp_path):
    mem = load_images(f"folder:{folder}", channels=3, size=16)
    stream = load_images(f"folder:{folder}", channels=3, size=16, stream=True)
    pack_folder(folder, tmp_path / "p", size=16, progress=False, shard_bytes=7 * 3 * 16 * 16)   # 3 shards
    packed = load_images(f"packed:{tmp_path / 'p'}")
    assert (mem.source, stream.source, packed.source) == ("in-memory", "streaming", "packed")
    assert isinstance(stream.images, StreamImages)
    for data in (stream, packed):
        assert data.classes == mem.classes and torch.equal(data.labels, mem.labels)
        assert tuple(data.images.shape) == tuple(mem.images.shape)
    for rank in (0, 1):
        ref = Batches(mem.images, mem.labels, BatchSampler(20, 3, seed=5, rank=rank, world=2))
        others = [Batches(d.images, d.labels, BatchSampler(20, 3, seed=5, rank=rank, world=2), workers=w)
                  for d, w in ((stream, 0), (stream, 1), (packed, 0))]
        for step in range(7):   # crosses an epoch (3 steps of 2 x 3 images)
            x, y = ref.get(step)
            for b in others:
                bx, by = b.get(step)
                assert torch.equal(bx, x) and torch.equal(by, y), (rank, step)


def test_ranks_never_share_an_image_within_an_epoch():
    seen = [set(), set()]
    for rank in (0, 1):
        s = BatchSampler(20, 3, seed=1, rank=rank, world=2)
        for step in range(s.steps_per_epoch):
            seen[rank] |= set(s.indices(step).tolist())
    assert not seen[0] & seen[1] and len(seen[0]) == len(seen[1]) == 9


def test_pack_round_trips_pixels_and_labels_exactly(folder, tmp_path):
    m = pack_folder(folder, tmp_path / "p", size=16, progress=False, shard_bytes=6 * 3 * 16 * 16)
    assert m["count"] == 20 and len(m["shards"]) == 4 and m["version"] == 1
    mem = load_images(f"folder:{folder}", channels=3, size=16)
    packed = open_packed(tmp_path / "p")
    assert torch.equal(packed.images[:], mem.images)
    assert torch.equal(packed.images[torch.tensor([19, 0, 7, 7])], mem.images[[19, 0, 7, 7]])
    assert torch.equal(packed.labels, mem.labels) and packed.classes == ["cats", "dogs"]
    raw = np.concatenate([np.load(tmp_path / "p" / s["file"]) for s in m["shards"]])
    assert np.array_equal(raw, mem.images.numpy())
    # a smaller pack into the same folder leaves no stale shard behind
    pack_folder(folder / "cats", tmp_path / "p", size=16, progress=False)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["images-00000.npy", "manifest.json"]
    # converted per batch when training at another size or channel count
    gray = open_packed(tmp_path / "p", channels=1, size=8)
    assert gray.images[0:2].shape == (2, 1, 8, 8) and gray.labels is None


def test_corrupt_file_mid_stream_is_skipped_and_reported(folder, capsys):
    data = load_images(f"folder:{folder}", channels=3, size=16, stream=True)
    bad = folder / "cats" / "004.jpg"
    bad.write_bytes(bad.read_bytes()[:100])   # corrupt after indexing: found only when its batch is read
    sampler = BatchSampler(20, 4, seed=0)
    batches = Batches(data.images, data.labels, sampler, workers=1)
    got = [batches.get(step)[0] for step in range(5)]   # one epoch: every image once
    batches.close()
    assert all(x.shape == (4, 3, 16, 16) for x in got)
    err = capsys.readouterr().err
    assert err.count("warning: skipped cannot read image") == 1 and "004.jpg" in err
    assert batches.skipped == 1


def test_streaming_path_chosen_by_the_memory_budget(folder, capsys):
    small = load_images(f"folder:{folder}", channels=3, size=16, memory=1e-6)   # 1 KB: 20 images do not fit
    assert small.source == "streaming" and "more than --data-memory" in small.why
    assert load_images(f"folder:{folder}", channels=3, size=16, memory=1.0).source == "in-memory"
    run = ganforge.train("gan", steps=2, data=f"folder:{folder}", data_memory=1e-6, workers=0, out="runs", **TINY)
    session = json.loads((run / "sessions.jsonl").read_text().splitlines()[0])
    assert session["data_source"] == "streaming" and "--data-memory" in session["data_why"]
    assert "data: streaming" in capsys.readouterr().err


def test_training_is_the_same_on_every_path(folder, tmp_path):
    pack_folder(folder, tmp_path / "p", size=16, progress=False)
    runs = [ganforge.train("gan", model="cgan", steps=3, out="runs", **TINY, **kw)
            for kw in (dict(data=f"folder:{folder}"), dict(data=f"folder:{folder}", stream=True, workers=1),
                       dict(data=f"packed:{tmp_path / 'p'}", workers=0))]
    ref = torch.load(runs[0] / "checkpoint.pt", weights_only=True)["modules"]
    for run in runs[1:]:
        other = torch.load(run / "checkpoint.pt", weights_only=True)["modules"]
        for net in ("G", "D"):
            assert all(torch.equal(v, other[net][k]) for k, v in ref[net].items()), (run, net)


def test_resume_mid_epoch_on_the_streaming_path_is_exact(folder):
    kw = dict(TINY, data=f"folder:{folder}", stream=True, workers=1, out="runs", model="dcgan")
    straight = ganforge.train("gan", steps=5, **kw)
    half = ganforge.train("gan", steps=3, **kw)             # 20 images / batch 8: an epoch is 2 steps
    ganforge.train("gan", resume=half, steps=5, workers=2)   # --workers may change on resume
    a = torch.load(straight / "checkpoint.pt", weights_only=True)["modules"]
    b = torch.load(half / "checkpoint.pt", weights_only=True)["modules"]
    for net in ("G", "D"):
        assert all(torch.equal(v, b[net][k]) for k, v in a[net].items()), net


def test_cyclegan_domains_stream_with_the_same_pixels(folder):
    spec = f"{folder / 'cats'},{folder / 'dogs'}"
    mem = load_unpaired(spec, 20, 16)
    lazy = load_unpaired(spec, 20, 16, stream=True)
    assert lazy.source == "streaming" and not isinstance(lazy.A, torch.Tensor)
    idx = torch.tensor([3, 1, 4])
    assert torch.equal(lazy.A[idx], mem.A[idx]) and torch.equal(lazy.B[idx], mem.B[idx])
    assert torch.equal(lazy.testA, mem.testA)
    with pytest.raises(UserError, match="smaller than the crop size"):
        load_unpaired(spec, 80, 72, strict=True, stream=True)


def test_classifier_held_out_split_is_lazy_and_the_same(folder, tmp_path):
    from ganforge.config import ClassifierConfig, resolve
    from ganforge.tasks.classifier import split_data

    pack_folder(folder, tmp_path / "p", size=16, progress=False)
    kw = dict(image_size=16, channels=3)
    cfg = lambda data, **more: resolve(ClassifierConfig, data=data, **kw, **more)  # noqa: E731
    (tm, vm), (ts, vs) = split_data(cfg(f"folder:{folder}")), split_data(cfg(f"folder:{folder}", stream=True))
    tp, vp = split_data(cfg(f"packed:{tmp_path / 'p'}"))   # a pack has no test split: the same held-out draw
    assert not isinstance(vs.images, torch.Tensor) and len(vs) == len(vm) == len(vp) == 4 and len(tp) == 16
    assert torch.equal(torch.cat(list(vs.images.split(3))), vm.images) and torch.equal(ts.images[:], tm.images)
    assert torch.equal(vp.images[:], vm.images) and torch.equal(vp.labels, vm.labels)


def test_cli_pack_then_train_on_it(folder, capsys):
    from ganforge.cli import main

    assert main(["datasets", "pack", f"folder:{folder}", "-o", "p", "--size", "16", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "packed 20 images of 3x16x16" in out and "2 classes" in out and "--data packed:p" in out
    assert main(["train", "classifier", "--data", "packed:p", "--width", "2", "--batch-size", "8", "--steps", "2",
                 "--eval-every", "0", "--no-progress", "--out", "runs"]) == 0
    assert "data: packed packed:p" in capsys.readouterr().err
    assert main(["datasets"]) == 0 and "packed:DIR" in capsys.readouterr().out


def test_lazy_images_index_like_the_in_memory_tensor(folder):
    mem = load_images(f"folder:{folder}", channels=3, size=16).images
    lazy = load_images(f"folder:{folder}", channels=3, size=16, stream=True).images
    mask = torch.arange(20) % 3 == 0
    for key in (1, -1, slice(2, 9, 3), [4, 0, 4], torch.tensor([7, 2]), mask, (2, 1), (slice(0, 2), 0)):
        assert torch.equal(lazy[key], mem[key]), key
    assert len(lazy) == 20 and lazy.shape == mem.shape and lazy.ndim == 4 and lazy.dtype == torch.uint8
    assert torch.equal(lazy.subset(mask)[:], mem[mask]) and torch.equal(torch.cat(list(lazy.split(6))), mem)
    with pytest.raises(IndexError):
        lazy[[20]]
