"""Video GAN (issue 13): moving digits, the video loaders, the two discriminators, training, the CLI."""
import numpy as np
import pytest
import torch
from PIL import Image

from ganforge import models
from ganforge.cli import main
from ganforge.config import GANConfig
from ganforge.data import ImageData, to_float
from ganforge.data.video import load_clips, load_videos, moving_digits
from ganforge.errors import UserError
from ganforge.tasks.gan import GANObjective
from ganforge.tasks.video import clip_scores, digit_crops

SHAPE = (8, 1, 32, 32)   # T, C, H, W


def test_moving_digits_are_deterministic_per_seed():
    a, b = moving_digits("test", frames=6, seed=3, n=5), moving_digits("test", frames=6, seed=3, n=5)
    c = moving_digits("test", frames=6, seed=4, n=5)
    assert a.images.shape == (5, 6, 1, 32, 32) and a.images.dtype == torch.uint8
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    two = moving_digits("test", frames=6, size=48, digits=2, seed=3, n=5)
    assert two.images.shape == (5, 6, 1, 48, 48) and two.name == "moving-mnist:2"


def test_real_clips_keep_their_digit_and_move():
    from ganforge.metrics.extractors import get_extractor

    clips = to_float(moving_digits("test", frames=8, seed=1, n=20).images)
    s = clip_scores(clips, get_extractor("classifier", (1, 28, 28), "mnist5k").logits)
    assert s["identity"] >= 0.95 and s["motion"] > 0.03


def test_digit_crop_finds_the_digit():
    frame = -torch.ones(1, 1, 32, 32)
    frame[0, 0, 10:30, 3:23] = 1.0          # a bright 20x20 box
    crop = digit_crops(frame)
    assert crop.shape == (1, 1, 28, 28)
    assert (crop[0, 0, 4:24, 4:24] == 1).all() and crop.sum() == 400 - (784 - 400)   # the box, centred


def test_discriminators_input_shapes():
    G, D = models.create("videogan", kind="gan", image_shape=SHAPE, latent_dim=8, width=4)
    seen = {}
    D.spatial.register_forward_pre_hook(lambda m, a: seen.update(spatial=tuple(a[0].shape)))
    D.temporal.net.register_forward_pre_hook(lambda m, a: seen.update(temporal=tuple(a[0].shape)))
    clips = G(torch.randn(3, 8))
    assert clips.shape == (3, *SHAPE) and clips.abs().max() <= 1
    out = D(clips)
    assert seen["spatial"] == (3 * D.k, 1, 32, 32)        # k frames per clip at full resolution
    assert seen["temporal"] == (3, 2, 8, 16, 16)          # the whole clip (N, C, T, H, W) at half resolution + its change
    assert out["adv_spatial"].shape == (3, D.k) and out["adv_temporal"].shape == (3,)
    frames = D.pick_frames(torch.arange(8.0).view(1, 8, 1, 1, 1).expand(2, 8, 1, 32, 32))
    assert all(len(set(f[:, 0, 0, 0].tolist())) == D.k for f in frames)   # distinct frames


def test_reflect_folds_a_free_path_into_the_box():
    from ganforge.models.videogan import reflect

    u = torch.linspace(-6, 6, 241)
    r = reflect(u)
    assert r.min() == -1 and r.max() == 1
    assert torch.allclose(r[u.abs() <= 1], u[u.abs() <= 1], atol=1e-5)   # inside the box: unchanged
    assert torch.allclose(reflect(torch.tensor([1.5, 2.0, 3.0, 4.5])), torch.tensor([0.5, 0.0, -1.0, 0.5]))
    assert (r[1:] - r[:-1]).abs().max() <= 0.05 + 1e-6                 # continuous: no jumps at the walls


def test_bounce_motion_keeps_speed_and_turns_at_the_walls():
    from ganforge.models.videogan import MAX_SHIFT

    G, _ = models.create("videogan", kind="gan", image_shape=(16, 1, 32, 32), latent_dim=8, width=4, motion="bounce")
    with torch.no_grad():   # a GRU-independent constant velocity: 0.5 * 0.6 = 0.3 box half-widths per frame
        G.velocity.weight.zero_()
        G.velocity.bias.fill_(0.6)
    shift = G.offsets(torch.randn(3, 8))                                   # (3, 16, 2)
    room = MAX_SHIFT * torch.sigmoid(G.room)
    assert shift.abs().max() <= room + 1e-6
    step = (shift[:, 1:] - shift[:, :-1]).abs()
    turns = ((shift[:, 2:] - shift[:, 1:-1]) * (shift[:, 1:-1] - shift[:, :-2]) < 0).any(1)
    assert turns.all()                                                     # 4.8 half-widths of travel: it bounced
    assert torch.allclose(step.max(1).values, 0.3 * room.expand(3, 2), atol=1e-5)   # at a constant speed
    glide, _ = models.create("videogan", kind="gan", image_shape=(16, 1, 32, 32), latent_dim=8, width=4)
    assert glide.motion == "glide" and not hasattr(glide, "room")         # the builder's default: old checkpoints
    assert GANConfig(model="videogan").motion == "bounce"                 # a new run bounces


def test_same_noise_same_clip():
    G, _ = models.create("videogan", kind="gan", image_shape=SHAPE, latent_dim=8, width=4)
    G.eval()
    z = torch.randn(2, 8)
    assert torch.equal(G(z), G(z))


def test_a_few_steps_of_videogan():
    clips = moving_digits("test", frames=8, seed=0, n=16)
    obj = GANObjective(GANConfig(model="videogan", width=4, latent_dim=8, batch_size=4), data=clips)
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in obj.modules.items()}
    for step in range(2):
        stats = obj.train_step(step)
    assert all(np.isfinite(v) for v in stats.values())
    for k, m in obj.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), k


def gif(path, frames, size=20):
    imgs = [Image.new("L", (size, size), 20 * i) for i in range(frames)]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=50)


def test_video_folder_gifs_and_frame_folders(tmp_path, capsys):
    gif(tmp_path / "a.gif", 9)
    (tmp_path / "frames").mkdir()
    for i in range(4):
        Image.new("RGB", (24, 30), (10 * i, 0, 0)).save(tmp_path / "frames" / f"{i:03d}.png")
    gif(tmp_path / "short.gif", 2)
    data = load_videos(tmp_path, frames=4, channels=1, size=16)
    assert data.images.shape == (3, 4, 1, 16, 16)   # a.gif: 2 clips of 4 (1 frame left over); frames/: 1
    assert "short.gif has 2 frames" in capsys.readouterr().err
    with pytest.raises(UserError, match="fewer than --frames 4"):
        load_videos(tmp_path, frames=4, channels=1, size=16, strict=True)
    with pytest.raises(UserError, match="longest video has 9 frames"):
        load_videos(tmp_path, frames=10, channels=1, size=16)
    with pytest.raises(UserError, match="moving-mnist"):
        load_clips("mnist5k")


def test_cli_train_sample_gif_and_eval(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", "gan", "--model", "videogan", "--data", "moving-mnist", "--frames", "6", "--width", "4",
                 "--latent-dim", "8", "--batch-size", "4", "--steps", "2", "--no-progress", "--out", str(out)]) == 0
    run = out / "gan-0001"
    assert (run / "samples.gif").is_file()
    assert main(["sample", str(run), "-n", "4", "-o", str(tmp_path / "clips.gif"), "--seed", "2"]) == 0
    with Image.open(tmp_path / "clips.gif") as im:
        assert im.n_frames == 6 and im.size == ((2 * 34 + 2) * 2, (2 * 34 + 2) * 2)
    assert main(["sample", str(run), "-n", "3", "-o", str(tmp_path / "strip.png")]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--num", "4"]) == 0
    text = capsys.readouterr().out
    assert "identity" in text and "motion" in text


def test_mp4_written_and_read_back_with_pyav(tmp_path):
    pytest.importorskip("av")
    from ganforge.viz.media import save_mp4

    clips = to_float(moving_digits("test", frames=6, seed=0, n=1).images)
    save_mp4(clips, tmp_path / "v" / "a.mp4", nrow=1)
    data = load_videos(tmp_path / "v", frames=6, channels=1, size=32)
    assert data.images.shape == (1, 6, 1, 32, 32)
    (tmp_path / "v" / "a.mp4").write_bytes(b"not a video")
    with pytest.raises(UserError, match="cannot read video"):
        load_videos(tmp_path / "v" / "a.mp4", frames=6, channels=1, size=32)
