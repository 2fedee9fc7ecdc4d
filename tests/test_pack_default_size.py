"""`ganforge datasets pack` without --size keeps the images' own size (or the folder's most common
short side) and says which it chose; it never upsamples to a fixed default."""
import json

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main
from ganforge.data.packed import open_packed, own_size


def _images(folder, sizes):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def test_pack_keeps_32px_images_at_32px(tmp_path, capsys):
    src = _images(tmp_path / "small", [(32, 32)] * 5)
    assert main(["datasets", "pack", f"folder:{src}", "-o", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "size: 32 px, the images' own size, 32x32 (pass --size to resize)" in out
    assert "5 images of 3x32x32 (15.4 KB)" in out
    assert json.loads((tmp_path / "p" / "manifest.json").read_text())["shape"] == [3, 32, 32]
    assert open_packed(tmp_path / "p").images.image_shape == (3, 32, 32)   # training on it runs at 32 px


def test_pack_of_mixed_sizes_takes_the_most_common_short_side(tmp_path, capsys):
    src = _images(tmp_path / "mixed", [(40, 30), (30, 30), (64, 48), (30, 50)])
    assert main(["datasets", "pack", f"folder:{src}", "-o", str(tmp_path / "p")]) == 0
    assert "size: 30 px, the most common short side, 30 px, of 3 of 4 images (short sides 30..48 px)" in \
        capsys.readouterr().out
    assert json.loads((tmp_path / "p" / "manifest.json").read_text())["shape"] == [3, 30, 30]


def test_an_explicit_size_still_resizes(tmp_path, capsys):
    src = _images(tmp_path / "small", [(32, 32)] * 2)
    assert main(["datasets", "pack", f"folder:{src}", "-o", str(tmp_path / "p"), "--size", "16"]) == 0
    out = capsys.readouterr().out
    assert "size:" not in out and "3x16x16" in out


@pytest.mark.parametrize("sizes, want", [([(5, 5)], 8), ([(9000, 9000)], 4096), ([(20, 64), (64, 20)], 20),
                                         ([(16, 16), (32, 32)], 32)])
def test_own_size_limits_and_ties(sizes, want):
    assert own_size(sizes)[0] == want
