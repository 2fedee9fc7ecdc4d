"""LAPGAN (issue 13): pyramid levels, exact reconstruction, training on the real pyramid, the CLI."""
import pytest
import torch
from PIL import Image

from ganforge import models
from ganforge.cli import main
from ganforge.config import GANConfig
from ganforge.data import ImageData
from ganforge.models.lapgan import gaussian_levels, laplacian_bands, level_sides, pack, reconstruct, unpack
from ganforge.tasks.gan import GANObjective


@pytest.mark.parametrize("size,sides", [(28, [28, 14, 7]), (32, [32, 16, 8]), (64, [64, 32, 16, 8])])
def test_level_sides(size, sides):
    assert level_sides(size) == sides


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 64, 64)])
def test_shapes_at_every_level(shape):
    c, s, _ = shape
    G, D = models.create("lapgan", kind="gan", image_shape=shape, latent_dim=8, width=4)
    sides = level_sides(s)
    z = torch.randn(3, 8)
    levels = G.levels(z)   # coarse to fine
    assert [tuple(lv.shape) for lv in levels] == [(3, c, t, t) for t in reversed(sides)]
    assert all(lv.abs().max() <= 1 for lv in levels)
    assert G(z).shape == (3, *shape)
    real = torch.rand(3, *shape) * 2 - 1
    packed = G(z, real)   # the training view: every level on the real pyramid
    assert packed.shape == (3, c * len(sides), s, s)
    for x, cond in ((packed, real), (real, None), (G(z), None)):
        out = D(x, cond)
        assert set(out) == {f"adv_level{k}" for k in range(len(sides))}
        assert all(v.shape == (3,) and torch.isfinite(v).all() for v in out.values())


def test_pyramid_reconstruction_is_exact():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    bands = laplacian_bands(x, 3)
    assert [b.shape[-1] for b in bands] == [32, 16, 8]
    torch.testing.assert_close(reconstruct(bands), x, rtol=0, atol=1e-6)
    levels = gaussian_levels(x, 3)
    assert all(torch.equal(a, b) for a, b in zip(unpack(pack(levels), 3), levels))   # packing loses nothing


def test_finer_levels_draw_bands_on_the_real_coarser_level():
    G, _ = models.create("lapgan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=4)
    G.eval()
    z, a, b = torch.randn(2, 8), torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28)
    la, lb = unpack(G(z, a), 3), unpack(G(z, b), 3)
    assert torch.equal(la[2], lb[2])              # the coarsest level is unconditional
    assert not torch.allclose(la[0], lb[0])       # finer levels follow the real coarser image


def test_a_few_steps_train_every_level():
    data = ImageData("tiny", torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8))
    obj = GANObjective(GANConfig(model="lapgan", width=4, latent_dim=8, batch_size=8), data=data)
    real, c = obj.real_batch(0)   # the family's view: the packed real pyramid, conditioned on the real images
    assert real.shape == (8, 3, 28, 28) and c.shape == (8, 1, 28, 28)
    before = [p.detach().clone() for p in obj.G.parameters()] + [p.detach().clone() for p in obj.D.parameters()]
    for step in range(3):
        stats = obj.train_step(step)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    after = list(obj.G.parameters()) + list(obj.D.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after) if a.ndim > 1)   # every level's weights moved


def test_cli_train_sample_levels_and_eval(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", "gan", "--model", "lapgan", "--data", "synthetic:1x28x28:64", "--width", "4",
                 "--latent-dim", "8", "--batch-size", "8", "--steps", "3", "--no-progress", "--out", str(out)]) == 0
    run = out / "gan-0001"
    assert main(["sample", str(run), "--show-levels", "-n", "5", "-o", str(tmp_path / "levels.png"), "--seed", "1"]) == 0
    w, h = Image.open(tmp_path / "levels.png").size
    assert h == (3 * 30 + 2) * 2 and w > (5 * 30 + 2) * 2   # 5 columns x 3 levels of 28 px (+ 2 px gaps), x2,
    assert "levels 7 -> 14 -> 28" in capsys.readouterr().out   # and a margin for the row labels (test_generated_lists)
    assert main(["sample", str(run), "-n", "4", "-o", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 0
