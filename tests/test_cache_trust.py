"""The cache cannot run code (issue 16): CIFAR batches never execute pickle code, the GRU kernel
library is loaded only when it is ours and unchanged, downloads without a published checksum are
checked against what was recorded when they were fetched (CycleGAN zips, the Inception file)."""
from __future__ import annotations

import json
import os
import pickle
import urllib.error

import numpy as np
import pytest

from ganforge.data import download
from ganforge.data.datasets import read_cifar_batch
from ganforge.errors import UserError


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):   # what a planted pickle does: call something when loaded
        return (os.mkdir, (self.marker,))


def test_cifar_batches_parse_without_running_code(tmp_path):
    good = {b"batch_label": b"training batch 1 of 5", b"labels": [3, 1, 9],
            b"data": np.arange(3 * 3072, dtype=np.uint8).reshape(3, 3072), b"filenames": [b"a", b"b", b"c"]}
    for protocol in (2, 4):
        (tmp_path / "b").write_bytes(pickle.dumps(good, protocol=protocol))
        images, labels = read_cifar_batch(tmp_path / "b")
        assert images.shape == (3, 3, 32, 32) and labels.tolist() == [3, 1, 9]
    marker = tmp_path / "code-ran"
    (tmp_path / "planted").write_bytes(pickle.dumps({b"data": _Planted(str(marker)), b"labels": []}, protocol=2))
    with pytest.raises(UserError, match="refusing to load posix.mkdir"):
        read_cifar_batch(tmp_path / "planted")
    assert not marker.exists()
    (tmp_path / "odd").write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 42]}))
    with pytest.raises(UserError, match="labels outside"):
        read_cifar_batch(tmp_path / "odd")


@pytest.fixture
def fresh_kernel(monkeypatch, tmp_path):
    from ganforge.nn import kernel

    if not kernel._compiler():
        pytest.skip("no C compiler")
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))

    def load():
        monkeypatch.setattr(kernel, "_lib", None)
        monkeypatch.setattr(kernel, "_tried", False)
        return kernel.load()

    return kernel, load


def test_gru_kernel_cache_is_private_and_checked_by_content_hash(fresh_kernel):
    kernel, load = fresh_kernel
    assert load() is not None
    folder = kernel.cache_dir()
    (lib,) = folder.glob("gru-*.so")
    assert folder.stat().st_mode & 0o777 == 0o700 and not lib.stat().st_mode & 0o022
    recorded = (folder / (lib.name + ".sha256")).read_text()
    # a swapped library (same name, other bytes) is not loaded: it is rebuilt
    lib.unlink()   # (rewriting it in place would crash this process, which has it mapped)
    lib.write_bytes(b"\x7fELF planted")
    builds = []
    real_build = kernel._build
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kernel, "_build", lambda target: (builds.append(target), real_build(target)))
        assert load() is not None
    assert builds and (folder / (lib.name + ".sha256")).read_text() == recorded == kernel._digest(lib)
    # a library writable by others is not trusted either
    os.chmod(lib, 0o777)
    assert not kernel._trusted(lib)
    # a group/world-writable cache folder is made private again
    os.chmod(folder, 0o777)
    assert load() is not None and not folder.stat().st_mode & 0o022


def _fake_server(monkeypatch, payload: bytes):
    class Resp:
        headers = {"Content-Length": str(len(payload))}

        def __init__(self):
            self.left = payload

        def read(self, n):
            out, self.left = self.left[:n], self.left[n:]
            return out

        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

    calls = []
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: calls.append(url) or Resp())
    return calls


def test_downloads_without_checksum_are_length_checked_on_reuse(tmp_path, monkeypatch):
    dest = tmp_path / "cache" / "cyclegan" / "horse2zebra.zip"
    calls = _fake_server(monkeypatch, b"z" * 5000)
    download.fetch("http://x/horse2zebra.zip", dest, None, progress=False)
    rec = json.loads(download.record_path(dest).read_text())
    assert rec["size"] == 5000 and len(rec["sha256"]) == 64 and len(calls) == 1
    download.fetch("http://x/horse2zebra.zip", dest, None, progress=False)
    assert len(calls) == 1   # intact: reused
    dest.write_bytes(b"z" * 1200)   # truncated in the cache: fetched again
    download.fetch("http://x/horse2zebra.zip", dest, None, progress=False)
    assert len(calls) == 2 and dest.stat().st_size == 5000
    dest.write_bytes(b"z" * 10)
    monkeypatch.setattr(download.urllib.request, "urlopen",
                        lambda url, timeout: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    with pytest.raises(UserError, match="could not download horse2zebra.zip"):
        download.fetch("http://x/horse2zebra.zip", dest, None, progress=False)


def test_inception_file_is_checked_against_the_recorded_hash(tmp_path, monkeypatch):
    from ganforge.metrics import extractors

    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    path = extractors.inception_path()
    calls = _fake_server(monkeypatch, b"torchscript bytes")
    download.fetch(extractors.INCEPTION_URL, path, None, progress=False)
    extractors._verify_inception(path)   # as downloaded: accepted
    path.write_bytes(b"torchscript bytes, planted")   # same length would do too: the hash decides
    with pytest.raises(UserError, match="is not the file that was downloaded"):
        extractors._verify_inception(path)
    assert calls
