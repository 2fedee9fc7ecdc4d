"""SRResNet / SRGAN (issue 13, part 1): shapes, sub-pixel upsampling, tiling, metrics, content
losses, a few training steps of each model, and `ganforge upscale` / `ganforge eval` end to end."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from ganforge import api
from ganforge.cli import main
from ganforge.data.paired import bicubic, downscale, mod_crop, random_crops
from ganforge.metrics.sr import luminance, sr_scores
from ganforge.models.srgan import SRDiscriminator, SRResNet, SubPixelUp
from ganforge.nn.tiled import tiled_forward

TINY = dict(data="synthetic:3x32x32:24", crop=16, width=4, d_width=4, blocks=1, batch_size=4, steps=3,
            sample_every=0, progress=False)


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("bn", [False, True])
def test_generator_and_discriminator_shapes(scale, bn):
    G = SRResNet(scale, blocks=2, width=8, bn=bn)
    y = G(torch.randn(2, 3, 7, 5))
    assert y.shape == (2, 3, 7 * scale, 5 * scale) and torch.isfinite(y).all()
    D = SRDiscriminator(width=4)
    for side in (28, 96):   # digits and the paper's crops
        assert D(torch.randn(2, 3, side, side))["adv"].shape == (2, 1)


def test_pixel_shuffle_against_a_hand_made_example():
    # channel c*4 + 2i + j of the low-res map becomes pixel (2y + i, 2x + j) of output channel c
    x = torch.arange(8.0).view(1, 8, 1, 1)
    y = nn.PixelShuffle(2)(x)
    assert torch.equal(y, torch.tensor([[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]]))
    x = torch.tensor([[[[1.0, 2.0]], [[10.0, 20.0]], [[100.0, 200.0]], [[1000.0, 2000.0]]]])   # (1, 4, 1, 2)
    assert torch.equal(nn.PixelShuffle(2)(x)[0, 0], torch.tensor([[1.0, 10.0, 2.0, 20.0],
                                                                   [100.0, 1000.0, 200.0, 2000.0]]))


def test_icnr_starts_sub_pixel_upsampling_as_nearest_neighbour():
    up = SubPixelUp(3)
    conv, shuffle = up[0], up[1]
    x = torch.randn(1, 3, 5, 6)
    y = shuffle(conv(x))
    # all four phases equal: every 2x2 output block holds one value
    assert torch.allclose(y, y[..., ::2, ::2].repeat_interleave(2, -1).repeat_interleave(2, -2))


@pytest.mark.parametrize("image_skip,bn", [(True, False), (False, True)])
def test_tiling_equals_the_whole_image_pass(image_skip, bn):
    torch.manual_seed(0)
    G = SRResNet(4, blocks=2, width=6, bn=bn, image_skip=image_skip)
    if bn:   # batch norm with non-trivial running statistics, used in eval mode
        G.train()
        G(torch.randn(4, 3, 16, 16))
    G.eval()
    x = torch.randn(1, 3, 37, 29)
    with torch.no_grad():
        whole = G(x)
    tiled = tiled_forward(G, x, 8, G.margin(), scale=4)
    assert tiled.shape == whole.shape
    assert torch.allclose(tiled, whole, atol=1e-5)
    short = tiled_forward(G, x, 8, 1, scale=4)   # too little context: the seams show
    assert not torch.allclose(short, whole, atol=1e-3)


def test_paired_data_and_metrics():
    hr = torch.randint(0, 256, (2, 3, 33, 30), dtype=torch.uint8)
    hr = mod_crop(hr, 4)
    assert hr.shape[-2:] == (32, 28)
    lr = downscale(hr, 4)
    assert lr.dtype == torch.uint8 and lr.shape == (2, 3, 8, 7)
    assert bicubic(lr, 4).shape == hr.shape
    flat = torch.full((1, 3, 16, 16), 77, dtype=torch.uint8)
    assert torch.equal(downscale(flat, 4), flat[..., :4, :4])   # a flat image stays flat
    g1, g2 = (torch.Generator().manual_seed(3) for _ in range(2))
    assert torch.equal(random_crops([hr[0], hr[1]], 5, 16, g1), random_crops([hr[0], hr[1]], 5, 16, g2))
    white, black = (torch.full((1, 3, 2, 2), v, dtype=torch.uint8) for v in (255, 0))
    assert torch.allclose(luminance(white), torch.tensor(235.0)) and torch.allclose(luminance(black), torch.tensor(16.0))
    img = torch.randint(0, 256, (1, 3, 24, 24), dtype=torch.uint8)
    s = sr_scores(img, img, 4)
    assert s["psnr_y"] == float("inf") and s["ssim_rgb"] == pytest.approx(1.0)
    noisy = (img.int() + 4).clamp(0, 255).to(torch.uint8)
    assert 30 < sr_scores(noisy, img, 4)["psnr_rgb"] < 40


def test_content_loss_falls_back_without_vgg_weights_and_checks_the_file():
    from ganforge.errors import UserError
    from ganforge.models.perceptual import content_loss, load_vgg19, vgg19_features, vgg19_path

    said = []
    loss = content_loss("auto", log=said.append)   # the cache is empty in tests: no download is tried
    assert loss.kind == "cnn" and "VGG-19 unavailable" in said[0]
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert loss(x, x).item() == 0 and loss(x, -x).item() > 0
    vgg19_path().parent.mkdir(parents=True)
    vgg19_path().write_bytes(b"not the weights")
    with pytest.raises(UserError, match="SHA-256"):
        load_vgg19(36, download=False)
    assert len([m for m in vgg19_features(36) if isinstance(m, nn.Conv2d)]) == 16   # relu5_4: all 16 convs


@pytest.mark.parametrize("model,scale", [("srresnet", 2), ("srgan", 4)])
def test_a_few_training_steps(model, scale, tmp_path):
    run = api.train("sr", model=model, scale=scale, out=str(tmp_path), **TINY)
    stats = (run / "stats.jsonl").read_text().splitlines()
    assert len(stats) >= 3 and ("d_loss" in stats[-2]) == (model == "srgan")
    up = api.load(run)
    lr = torch.randint(0, 256, (1, 3, 5, 9), dtype=torch.uint8)
    assert up.upscale(lr).shape == (1, 3, 5 * scale, 9 * scale)
    # srgan starting from the srresnet: the generator weights carry over
    if model == "srresnet":
        run2 = api.train("sr", model="srgan", scale=scale, init=str(run), out=str(tmp_path), **{**TINY, "steps": 1})
        assert run2.exists()


def test_upscale_cli_on_a_folder_keeps_names_and_tiles_without_seams(tmp_path, capsys):
    run = api.train("sr", model="srresnet", scale=4, out=str(tmp_path / "runs"), **TINY)
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for name, (w, h) in {"a.png": (23, 17), "sub/b.png": (5, 7)}.items():   # b: smaller than the tile
        arr = torch.randint(0, 256, (h, w, 3), generator=g, dtype=torch.uint8).numpy()
        Image.fromarray(arr).save(src / name)
    (src / "broken.png").write_text("not an image")
    assert main(["upscale", str(run), str(src), "-o", str(tmp_path / "out"), "--tile", "8"]) == 0
    out = capsys.readouterr()
    assert "upscaled 2 image(s)" in out.out and "broken.png" in out.err
    assert Image.open(tmp_path / "out" / "a.png").size == (92, 68)
    assert Image.open(tmp_path / "out" / "sub" / "b.png").size == (20, 28)
    assert main(["upscale", str(run), str(src / "a.png"), "-o", str(tmp_path / "whole.png"), "--tile", "0"]) == 0
    tiled, whole = (np.array(Image.open(p)).astype(int) for p in (tmp_path / "out" / "a.png", tmp_path / "whole.png"))
    assert np.abs(tiled - whole).max() <= 1   # the same image, up to rounding
    assert main(["upscale", str(run), str(src), "-o", str(tmp_path / "strict"), "--strict"]) == 2


def test_eval_reports_y_and_rgb_next_to_bicubic(tmp_path, capsys):
    run = api.train("sr", model="srresnet", scale=2, out=str(tmp_path), **TINY)
    assert main(["eval", str(run)]) == 0
    out = capsys.readouterr().out
    for key in ("psnr_y srresnet", "psnr_y bicubic", "ssim_y srresnet", "psnr_rgb bicubic", "ssim_rgb srresnet"):
        assert key in out, out
    assert "2 px border" in out
