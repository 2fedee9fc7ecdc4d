"""clip-FD (issue 25, item 5): the shipped tiny 3D conv net's Fréchet distance puts real clips nearer
to real clips than static, shuffled and digit-free drifting clips."""
import pytest
import torch

from ganforge.data.video import moving_digits
from ganforge.errors import UserError
from ganforge.metrics import video as V

N = 150   # clips per set: tiny, yet the gaps below are several times the noise of the real row


@pytest.fixture(scope="module")
def sets():
    ref = V.clip_features(moving_digits("train", 16, 32, seed=0, n=400).images)
    held = moving_digits("test", 16, 32, seed=1, n=N).images
    return ref, {"real": held, "static": V.static_clips(held), "shuffled": V.shuffled_clips(held, seed=0),
                 "boxes": V.drifting_boxes(N, seed=0)}


def test_the_shipped_net_is_small_and_loads():
    assert V.EMBEDDED.stat().st_size < 1_000_000
    net = V.load_net()
    assert net(torch.zeros(2, *V.CLIP_SHAPE))["logits"].shape == (2, 10)


def test_real_clips_are_nearer_than_static_shuffled_and_digit_free(sets):
    ref, clips = sets
    d = {k: V.clip_distance(v, ref) for k, v in clips.items()}
    for bad in ("static", "shuffled", "boxes"):
        assert d[bad] > 3 * d["real"], d


def test_reference_rows_keep_the_frames():
    held = moving_digits("test", 16, 32, seed=1, n=3).images
    st, sh = V.static_clips(held), V.shuffled_clips(held, seed=0)
    assert torch.equal(st[:, 5], held[:, 0])
    for i in range(3):   # the same frames, in another order
        assert sorted(f.sum().item() for f in sh[i]) == sorted(f.sum().item() for f in held[i])
    assert not torch.equal(sh, held)
    boxes = V.drifting_boxes(2, seed=0)
    assert boxes.shape == (2, 16, 1, 32, 32) and not torch.equal(boxes[:, 0], boxes[:, 1])   # they move


def test_track_targets_follow_the_centroid():
    clip = torch.zeros(1, 2, 1, 32, 32, dtype=torch.uint8)
    clip[0, 0, 0, 0, 0] = clip[0, 1, 0, 31, 31] = 255      # top-left corner, then bottom-right
    t = V.track_targets(clip)
    assert torch.allclose(t[0, :4], torch.tensor([-1.0, -1.0, 1.0, 1.0]))
    assert torch.allclose(t[0, 4:], torch.tensor([2.0, 2.0]) * V.STEP_SCALE)


def test_wrong_clip_shape_is_one_clear_error():
    with pytest.raises(UserError, match="needs clips of 16x1x32x32"):
        V.clip_features(torch.zeros(2, 8, 1, 32, 32))
    assert not V.applies("moving-mnist:2", V.CLIP_SHAPE) and V.applies("moving-mnist", V.CLIP_SHAPE)


def test_eval_of_a_video_checkpoint_reports_clip_fd_with_reference_rows(tmp_path, capsys, monkeypatch):
    from ganforge.cli import main

    monkeypatch.setattr(V, "REFERENCE_CLIPS", 40)   # the protocol's 2,000 take seconds; the rows are the same
    out = tmp_path / "runs"
    assert main(["train", "gan", "--model", "videogan", "--data", "moving-mnist", "--width", "4", "--latent-dim", "8",
                 "--batch-size", "4", "--steps", "2", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", str(out / "gan-0001"), "--num", "20"]) == 0
    text = capsys.readouterr().out
    rows = dict(line.strip().rsplit(None, 1) for line in text.splitlines() if line.startswith("  clip-FD ("))
    assert set(rows) == {"clip-FD (generated)", "clip-FD (held-out real)", "clip-FD (static: first frame repeated)",
                         "clip-FD (shuffled frames)"}, text
    assert float(rows["clip-FD (generated)"]) > 3 * float(rows["clip-FD (held-out real)"])   # 2 steps: blobs, not digits
    assert "c3d-tiny@moving-mnist5k" in text and "not I3D FVD" in text
    # eval.json names the video net and its weights, so a sweep never tabulates clip-FDs of two nets
    import hashlib
    import json

    record = json.loads((out / "gan-0001" / "eval.json").read_text())
    proto = record["protocol"]
    assert proto["extractor"] == V.NAME and proto["num_generated"] == 20 and proto["num_reference"] == 40
    assert proto["extractor_sha256"] == hashlib.sha256(V.EMBEDDED.read_bytes()).hexdigest()
    assert proto["weights"] in ("EMA of G", "raw G") and record["metrics"]["clip_fd"] > 0
