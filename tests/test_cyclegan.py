"""CycleGAN pieces: networks, receptive field, losses, image pool, LR schedule, metrics, data."""
import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge import models
from ganforge.data import to_float
from ganforge.data.unpaired import embedded, load_unpaired, random_crop_flip, vintage
from ganforge.errors import UserError
from ganforge.metrics.translation import psnr, ssim
from ganforge.nn.losses import d_loss, g_loss
from ganforge.tasks.cyclegan import ImagePool, l1, lr_factor


def test_parameter_counts_match_reference_implementation():
    # pytorch-CycleGAN-and-pix2pix prints 11.378 M (resnet_9blocks) and 2.765 M (basic 70x70 D);
    # resnet-6 is that minus three residual blocks of 2 x (256*256*9 + 256) parameters.
    counts = {n: models.count_params(models.create(n, **models.get(n).example)) for n in ("resnet-9", "resnet-6", "patchgan")}
    assert counts == {"resnet-9": 11_378_179, "resnet-6": 11_378_179 - 3 * 2 * (256 * 256 * 9 + 256), "patchgan": 2_764_737}


@pytest.mark.parametrize("name", ["resnet-6", "resnet-9"])
def test_generator_shapes_and_range(name):
    g = models.create(name, width=4)
    y = g(torch.randn(2, 3, 36, 44))
    assert y.shape == (2, 3, 36, 44) and y.abs().max() <= 1 and torch.isfinite(y).all()


def test_init_is_normal_002():
    g = models.create("resnet-9", width=64)
    w = g.net[0][1].weight
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002


def test_patchgan_output_shape():
    d = models.create("patchgan", width=4)
    assert d(torch.randn(2, 3, 256, 256)).shape == (2, 1, 30, 30)


def _window(i: int) -> tuple[int, int]:
    return 8 * i - 23, 8 * i + 46   # inclusive input rows seen by output row i


def test_patchgan_receptive_field_single_pixel():
    # Instance norm mixes the whole image; the 70x70 field is a property of the convolutions.
    d = models.create("patchgan", width=4, norm="none").double()
    x = torch.randn(1, 3, 128, 128, dtype=torch.double)
    base = d(x)[0, 0]
    p, q = 60, 77
    x2 = x.clone()
    x2[0, :, p, q] += 3.0
    changed = (d(x2)[0, 0] - base).abs() > 0
    rows = torch.tensor([_window(i)[0] <= p <= _window(i)[1] for i in range(base.shape[0])])
    cols = torch.tensor([_window(j)[0] <= q <= _window(j)[1] for j in range(base.shape[1])])
    assert torch.equal(changed, rows[:, None] & cols[None, :])
    assert rows.sum() == cols.sum() == 9   # a pixel far from the border sits in 70/8 ~ 9 windows per axis


def test_patchgan_output_sees_exactly_its_70x70_window():
    d = models.create("patchgan", width=4, norm="none").double()
    x = torch.randn(1, 3, 128, 128, dtype=torch.double)
    i, j = 6, 7
    (r0, r1), (c0, c1) = _window(i), _window(j)
    assert r1 - r0 + 1 == c1 - c0 + 1 == 70
    outside = torch.randn_like(x)
    outside[..., r0:r1 + 1, c0:c1 + 1] = x[..., r0:r1 + 1, c0:c1 + 1]   # everything else changes
    assert d(outside)[0, 0, i, j] == d(x)[0, 0, i, j]
    corner = x.clone()
    corner[..., r0, c1] += 1.0   # the window's own corner pixel does matter
    assert d(corner)[0, 0, i, j] != d(x)[0, 0, i, j]


def test_losses_on_hand_made_tensors():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    # CycleGAN's LSGAN on PatchGAN maps: D 1/2 (E (D(real) - 1)^2 + E D(fake)^2), G E (D(fake) - 1)^2
    assert d_loss("lsgan", ones, zeros) == 0 and d_loss("lsgan", zeros, ones) == 1
    assert d_loss("lsgan", torch.full((4,), 0.5), torch.full((4,), 0.5)) == pytest.approx(0.25)
    assert g_loss("lsgan", ones) == 0 and g_loss("lsgan", zeros) == 1 and g_loss("lsgan", torch.full((3,), 3.0)) == 4
    assert l1(torch.tensor([0.0, 2.0, -1.0]), torch.tensor([1.0, 1.0, 1.0])) == pytest.approx(4 / 3)


def test_image_pool():
    pool = ImagePool(3, seed=0)
    first = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 1, 2, 2)
    assert torch.equal(pool.query(first), first)           # filling: images pass through
    returned_old = 0
    for k in range(40):
        new = torch.full((1, 1, 2, 2), 100.0 + k)
        before = torch.stack(pool.images).clone()
        out = pool.query(new)
        if out[0, 0, 0, 0] == new[0, 0, 0, 0]:
            assert torch.equal(torch.stack(pool.images), before)   # pool unchanged
        else:
            returned_old += 1
            assert any(torch.equal(out[0], b) for b in before)     # an old image comes back
            assert any(torch.equal(new[0], b) for b in pool.images)  # and the new one is stored
        assert len(pool.images) == 3
    assert 8 <= returned_old <= 32   # probability 1/2
    empty = ImagePool(0)
    assert torch.equal(empty.query(first), first) and empty.images == []


def test_image_pool_state_roundtrip():
    a, b = ImagePool(2, seed=1), ImagePool(2, seed=5)
    for k in range(5):
        a.query(torch.full((1, 1, 1, 1), float(k)))
    b.load(a.state())
    x = torch.full((4, 1, 1, 1), 9.0)
    assert torch.equal(a.query(x), b.query(x))


def test_lr_schedule():
    assert [lr_factor(s, 100) for s in (0, 49, 50)] == [1.0, 1.0, 1.0]
    assert lr_factor(75, 100) == pytest.approx(0.5) and lr_factor(99, 100) == pytest.approx(0.02)
    assert lr_factor(0, 10, decay_from=0.0) == 1.0 and lr_factor(5, 10, decay_from=0.0) == pytest.approx(0.5)
    assert lr_factor(9, 10, decay_from=1.0) == 1.0


def test_psnr_and_ssim():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert psnr(x, (x + 0.2)).tolist() == pytest.approx([20.0, 20.0], abs=1e-4)   # 10 log10(4 / 0.04)
    assert ssim(x, x).tolist() == pytest.approx([1.0, 1.0])
    assert ssim(x, torch.rand_like(x) * 2 - 1).abs().max() < 0.2    # unrelated images
    noisy = [ssim(x, x + s * torch.randn_like(x)).mean().item() for s in (0.05, 0.2, 0.5)]
    assert noisy[0] > noisy[1] > noisy[2]
    a, b = torch.full((1, 1, 16, 16), 0.5), torch.full((1, 1, 16, 16), -0.25)
    c1 = (0.01 * 2) ** 2   # constant images: only the luminance term is left
    assert ssim(a, b).item() == pytest.approx((2 * 0.5 * -0.25 + c1) / (0.25 + 0.0625 + c1), rel=1e-4)


def test_random_crop_flip_takes_windows_of_the_source():
    x = torch.arange(2 * 10 * 10, dtype=torch.int64).view(2, 1, 10, 10).expand(2, 3, 10, 10).to(torch.uint8)
    g = torch.Generator().manual_seed(0)
    flips = 0
    for _ in range(10):
        out = random_crop_flip(x, 6, True, g)
        assert out.shape == (2, 3, 6, 6) and out.dtype == torch.uint8
        for n in range(2):
            tile = out[n, 0]
            if tile[0, 0] > tile[0, -1]:
                flips += 1
                tile = tile.flip(-1)
            top, left = divmod(int(tile[0, 0]) - 100 * n, 10)
            assert torch.equal(tile, x[n, 0, top:top + 6, left:left + 6])
    assert 0 < flips < 20


def test_embedded_set_is_unpaired_with_known_truth():
    d = embedded(40, 32, n_train=8, n_test=4)
    assert d.A.shape == d.B.shape == (8, 3, 40, 40) and d.testA.shape == (4, 3, 32, 32)
    assert torch.equal(d.truthA, vintage(d.testA)) and torch.equal(d.testB, vintage(d.truthB))
    assert not torch.equal(d.B, vintage(d.A))            # B is not the styled A (unpaired)
    gap = psnr(to_float(d.testA), to_float(d.truthA)).mean()
    assert 12 < gap < 30                                  # the style is a real change
    assert torch.equal(embedded(40, 32, n_train=8, n_test=4).A, d.A)   # deterministic


def test_embedded_train_and_test_crops_share_one_scale():
    # Train crops are stored at load size and cut to crop size, test crops are made at crop size:
    # per output pixel both must cover the same number of photo pixels, or the test images are a
    # zoomed-in (smoother) distribution the model never trained on.
    from ganforge.data.images import builtin_photos, read_image
    from ganforge.data.unpaired import _side_range

    load, crop = 72, 64
    for path in builtin_photos().values():
        w, h = read_image(path, 3).size
        t_lo, t_hi = _side_range(h, w, test=True)
        r_lo, r_hi = _side_range(h, w, test=False, zoom=load / crop)
        assert 0 < t_lo < t_hi <= w - int(0.75 * w) and r_hi <= int(0.75 * w)
        assert abs(r_lo * crop / load - t_lo) <= 1 and abs(r_hi * crop / load - t_hi) <= 1


def _png(path, w, h, color=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), color).save(path)


def test_folder_layout_and_bad_input(tmp_path, capsys):
    root = tmp_path / "ds"
    for sub, n in (("trainA", 3), ("trainB", 2), ("testA", 2), ("testB", 2)):
        for k in range(n):
            _png(root / sub / f"{k}.png", 50 + 10 * k, 40)
    d = load_unpaired(str(root), 36, 32)
    assert d.A.shape == (3, 3, 36, 36) and d.B.shape == (2, 3, 36, 36) and d.testA.shape == (2, 3, 32, 32)
    assert d.truthA is None and not d.test_is_train
    two = load_unpaired(f"{root / 'trainA'},{root / 'trainB'}", 36, 32)
    assert two.test_is_train and two.testA.shape == (3, 3, 32, 32)

    _png(root / "trainA" / "tiny.png", 20, 20)           # smaller than the 32 px crop
    assert load_unpaired(str(root), 36, 32).A.shape[0] == 3
    assert "smaller than the crop size 32" in capsys.readouterr().err
    with pytest.raises(UserError, match="smaller than the crop size"):
        load_unpaired(str(root), 36, 32, strict=True)
    with pytest.raises(UserError, match="larger than --load-size"):
        load_unpaired(str(root), 30, 32)
    (root / "empty").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        load_unpaired(f"{root / 'trainA'},{root / 'empty'}", 36, 32)
    for p in (root / "trainB").iterdir():
        p.unlink()
    (root / "trainB").rmdir()
    with pytest.raises(UserError, match="no trainB/ folder"):
        load_unpaired(str(root), 36, 32)
    with pytest.raises(UserError, match="unknown cyclegan dataset"):
        load_unpaired("horse2zebr", 36, 32)


def test_named_dataset_from_a_cached_zip(tmp_path, monkeypatch):
    # No network: the archive is put where fetch() looks, as a completed download would be.
    cache = tmp_path / "cache" / "cyclegan"
    cache.mkdir(parents=True)
    with zipfile.ZipFile(cache / "horse2zebra.zip", "w") as z:
        for sub in ("trainA", "trainB", "testA", "testB"):
            buf = io.BytesIO()
            Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(buf, "PNG")
            z.writestr(f"horse2zebra/{sub}/x.png", buf.getvalue())
    d = load_unpaired("horse2zebra", 36, 32, progress=False)
    assert d.A.shape == (1, 3, 36, 36) and (cache / "horse2zebra" / "horse2zebra" / "trainA").is_dir()
    assert not list(cache.glob("*.part*"))


def _kaiming(net):
    """PyTorch's default init instead of N(0, 0.02): without norm layers the N(0, 0.02) net's
    output at init is ~1e-7, too small to tell anything apart."""
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            m.reset_parameters()
    return net


@pytest.mark.parametrize("name,upsample,norm,skip", [("resnet-6", "deconv", "instance", "none"),
                                                     ("resnet-9", "resize", "instance", "none"),
                                                     ("resnet-6", "resize", "none", "input")])
def test_tiled_forward_equals_the_whole_image_pass(name, upsample, norm, skip):
    # Tiles keep only their core, with the generator's receptive field as real context around it,
    # and instance norm uses the whole image's statistics: the result is the whole-image pass.
    from ganforge.nn.tiled import tiled_forward

    torch.manual_seed(0)
    g = _kaiming(models.create(name, width=2, upsample=upsample, norm=norm, skip=skip).eval())
    x = torch.rand(1, 3, 40, 4 * 60 + 32) * 2 - 1        # wider than tile + 2 * context: tiles see part of it
    with torch.no_grad():
        whole = g(x)
    assert g.context == {"resnet-6": 68, "resnet-9": 92}[name]
    tiled = tiled_forward(g, x, 48, g.context)
    assert (tiled - whole).abs().max() < 1e-4              # everywhere, tile borders included
    naive = tiled_forward(g, x, 48, 0)                     # no context: the tile borders show
    assert (naive - whole).abs().max() > 1e-2


def test_upsample_modes():
    from ganforge.nn.blocks import up_block

    x = torch.randn(2, 8, 5, 7)
    for mode in ("deconv", "resize"):
        assert up_block(8, 4, upsample=mode)(x).shape == (2, 4, 10, 14)
    assert isinstance(models.create("resnet-6", width=2).net[-5][0], torch.nn.ConvTranspose2d)   # the paper's
    assert isinstance(models.create("resnet-6", width=2, upsample="resize").net[-5][0], torch.nn.Upsample)
    with pytest.raises(ValueError, match="unknown upsample"):
        up_block(8, 4, upsample="pixelshuffle")


def test_instance_norm_generator_is_blind_to_overall_brightness():
    # Conv + instance norm removes any per-image gain and offset, so an instance-norm generator gives
    # one output for x and 0.5 x + 0.3: it cannot apply a colour grade that depends on absolute
    # levels (why --norm none is the default). Without norm the output follows the input's levels.
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        inst = models.create("resnet-6", width=4, norm="instance")
        assert (inst(x) - inst(0.5 * x + 0.3)).abs().max() < 1e-3
        plain = _kaiming(models.create("resnet-6", width=4, norm="none"))
        assert (plain(x) - plain(0.5 * x + 0.3)).abs().max() > 1e-3


def test_input_skip_feeds_the_input_to_the_last_conv():
    # --skip input: the last 7x7 conv reads u64's features and the input image, concatenated; the
    # paper's layout (skip none) stays the one Sequential the reference weights map onto.
    plain = models.create("resnet-6", width=4)
    linked = models.create("resnet-6", width=4, skip="input")
    assert plain.net[-2].in_channels == 4 and not hasattr(plain, "head")
    assert linked.head[1].in_channels == 4 + 3 and len(linked.net) == len(plain.net) - 3
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    out = linked(x)
    assert out.shape == x.shape and out.abs().max() <= 1
    # with the body's output zeroed, what is left is the input seen through one conv: a per-pixel
    # grade (a 1x1 kernel at the centre) passes every detail of the input through
    with torch.no_grad():
        linked.head[1].weight.zero_()
        linked.head[1].bias.zero_()
        linked.head[1].weight[:, 4:, 3, 3] = 0.5 * torch.eye(3)
    assert torch.allclose(linked(x), torch.tanh(0.5 * x), atol=1e-6)
    with pytest.raises(ValueError, match="unknown skip"):
        models.create("resnet-6", width=4, skip="unet")
