"""Super-resolution data at scale (issue 19's gap): `train sr` on a streamed folder and on
packed:DIR gives the same batches as the in-memory list when the sizes agree, and the run log says
which path the data took."""
from __future__ import annotations

import json

import numpy as np
import torch
from PIL import Image

import ganforge
from ganforge.data.packed import pack_folder
from ganforge.data.paired import CropSampler, crop_each, load_sr_images, pick, random_crops

TINY = dict(crop=8, scale=2, width=4, blocks=1, batch_size=4, sample_every=0, progress=False, workers=0)


def make_pngs(root, n=6, size=(16, 16), seed=0):
    """n lossless random-pixel images of one size (PNG: every path decodes the same pixels)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    return root


def weights(run):
    return torch.load(run / "checkpoint.pt", weights_only=True)["modules"]["G"]


def test_crops_of_the_sampler_split_equal_random_crops():
    images = torch.randint(0, 256, (5, 3, 12, 12), dtype=torch.uint8)
    s = CropSampler(len(images), 7, seed=3, rank=1)
    g = s.generator(11)
    ref = random_crops(images, 7, 8, g)
    g = s.generator(11)
    pick(len(images), 7, g)
    assert torch.equal(crop_each(images[s.indices(11)], 8, g), ref)


def test_sr_trains_the_same_in_memory_streamed_and_packed(tmp_path, capsys):
    folder = make_pngs(tmp_path / "imgs")
    pack_folder(folder, tmp_path / "p", size=16, progress=False)
    runs = [ganforge.train("sr", steps=2, out=str(tmp_path / "runs"), **TINY, **kw)
            for kw in (dict(data=f"folder:{folder}"), dict(data=f"folder:{folder}", stream=True, stream_size=16),
                       dict(data=f"packed:{tmp_path / 'p'}"))]
    err = capsys.readouterr().err
    assert "data: in-memory folder:" in err and "data: streaming folder:" in err and "data: packed packed:" in err
    sources = [json.loads((r / "sessions.jsonl").read_text().splitlines()[0])["data_source"] for r in runs]
    assert sources == ["in-memory", "streaming", "packed"]
    ref = weights(runs[0])
    for run in runs[1:]:
        assert all(torch.equal(v, weights(run)[k]) for k, v in ref.items()), run


def test_a_folder_over_the_budget_streams_at_twice_the_crop(tmp_path):
    folder = make_pngs(tmp_path / "imgs", size=(30, 20))   # not square: decoded as centre squares
    data = load_sr_images(f"folder:{folder}", min_side=8, progress=False, memory=1e-9)
    assert data.source == "streaming" and "more than --data-memory" in data.why
    assert data.images.shape == (6, 3, 16, 16)
    # never past the smallest short side (20 px): no upscaled HR images
    assert load_sr_images(f"folder:{folder}", min_side=12, progress=False, stream=True).images.shape[-1] == 20
    mem = load_sr_images(f"folder:{folder}", min_side=8, progress=False)
    assert mem.source == "in-memory" and mem.images[0].shape == (3, 20, 30)
    run = ganforge.train("sr", steps=2, data=f"folder:{folder}", data_memory=1e-9, out=str(tmp_path / "r"), **TINY)
    assert all(torch.isfinite(v).all() for v in weights(run).values() if v.is_floating_point())


def test_streamed_sr_resumes_as_the_in_memory_run_does(tmp_path):
    # (a resumed sr run is compared with a resumed one: the learning-rate schedule depends on --steps)
    folder = make_pngs(tmp_path / "imgs")
    out = []
    for kw in (dict(), dict(stream=True, stream_size=16)):
        half = ganforge.train("sr", steps=2, data=f"folder:{folder}", out=str(tmp_path / "runs"), **TINY, **kw)
        ganforge.train("sr", resume=half, steps=4, workers=1)   # --workers may change on resume
        out.append(weights(half))
    assert all(torch.equal(v, out[1][k]) for k, v in out[0].items())
