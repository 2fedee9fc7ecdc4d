import os

import pytest
import torch

# Tests never touch the user's cache or the network.
os.environ.setdefault("GANFORGE_CACHE", "/nonexistent-ganforge-cache")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
