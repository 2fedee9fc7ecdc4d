"""The one-row-per-class grid of `ganforge sample`, the serve page and training snapshots: every
class gets a row, whatever -n and --nrow say, and -n grows to whole rows with a line saying so."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge.cli import main
from ganforge.viz import class_grid, make_grid

CELL = (8 + 2) * 8   # 8 px images, 2 px gaps, shown at 8x


def _folder(root, classes: int):
    rng = np.random.default_rng(classes)
    for k in range(classes):
        (root / f"c{k}").mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / f"c{k}" / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out, made = tmp_path_factory.mktemp("grid"), {}
    for k in (2, 3, 10):
        data = _folder(out / f"data{k}", k)
        made[k] = ganforge.train("gan", model="cgan", backbone="mlp", data=f"folder:{data}", image_size=8, channels=1, width=4, latent_dim=4,
                                 batch_size=8, steps=1, sample_every=1, progress=False, out=str(out / f"r{k}"))
    return made


@pytest.mark.parametrize("n, classes, nrow, want", [
    (64, 10, None, (70, 7, 70)), (64, 10, 8, (80, 8, 80)), (64, 2, None, (64, 32, 64)), (None, 2, None, (16, 8, 16)),
    (5, 3, None, (6, 2, 6)), (1, 3, 4, (12, 4, 12)), (100000, 10, None, (100000, 102, 1020)),
    (100000, 3, 5, (100002, 5, 15)),
])
def test_class_grid_has_whole_rows(n, classes, nrow, want):
    total, cols, shown = class_grid(n, classes, nrow, cap=1024 if n and n > 1024 else None)
    assert (total, cols, shown) == want and shown % classes == 0 and total % classes == 0


@pytest.mark.parametrize("classes", [2, 3, 10])
@pytest.mark.parametrize("args", [[], ["-n", "64"], ["-n", "7"], ["-n", "64", "--nrow", "8"], ["--nrow", "3"]])
def test_sample_draws_one_row_per_class(runs, classes, args, tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["sample", str(runs[classes]), *args, "--seed", "3", "-o", str(out)]) == 0
    n = int(args[args.index("-n") + 1]) if "-n" in args else None
    nrow = int(args[args.index("--nrow") + 1]) if "--nrow" in args else None
    cols = nrow or (8 if n is None else math.ceil(n / classes))
    grid = np.asarray(Image.open(out))
    assert grid.shape[:2] == (classes * CELL + 2 * 8, cols * CELL + 2 * 8)
    # row r holds class r: the same noise with the labels laid out by row gives the same pixels
    gen = ganforge.load(runs[classes])
    labels = torch.arange(classes * cols) // cols
    want = make_grid(gen.sample(classes * cols, seed=3, labels=labels), cols, upscale=8)[..., 0]
    assert np.array_equal(grid, want)
    printed = capsys.readouterr().out
    assert (f"one row per class: {classes} rows of {cols} = {classes * cols} images" in printed) == \
        (n != classes * cols)


@pytest.mark.parametrize("classes, n", [(2, 5), (3, 16), (10, 16), (10, 64)])
def test_serve_grid_has_one_row_per_class(runs, classes, n):
    from ganforge.use import serve_actions as S

    gen = ganforge.load(runs[classes])
    img = S.gan_generate(gen, seed=1, n=n)
    cols = math.ceil(n / classes)
    assert img.shape[:2] == (classes * CELL + 16, cols * CELL + 16)
    want = make_grid(gen.sample(classes * cols, seed=1, labels=torch.arange(classes * cols) // cols), cols, upscale=8)
    assert np.array_equal(img[..., 0], want[..., 0])


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_training_snapshot_has_one_row_per_class(runs, classes):
    h, w = np.asarray(Image.open(runs[classes] / "samples.png")).shape[:2]
    assert (h, w) == (classes * CELL + 16, 8 * CELL + 16)
