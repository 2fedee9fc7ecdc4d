"""CycleGAN end to end: a few training steps, resume, eval, translate and export through the CLI."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.cli import main
from ganforge.nn import checkpoint

TINY = ["--crop-size", "32", "--load-size", "36", "--width", "4", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cyc")
    assert main(["train", "cyclegan", "--steps", "3", "--sample-every", "2", *TINY, "--out", str(out)]) == 0
    return out / "cyclegan-0001"


def test_training_writes_a_usable_run(run_dir):
    for name in ("checkpoint.pt", "samples.png", "samples/step_000002.png", "losses.png", "config.yaml", "photos.png"):
        assert (run_dir / name).is_file(), name
    from ganforge.data.unpaired import held_out_photos

    strips = held_out_photos().values()   # full resolution: 2 x 6 strips side by side, the tallest photo's height
    with Image.open(run_dir / "photos.png") as panel:
        assert panel.size[1] == 16 + max(s.shape[-2] // 4 * 4 for s in strips)
        assert panel.size[0] > 6 * sum(s.shape[-1] // 4 * 4 for s in strips)
    stats = [json.loads(ln) for ln in (run_dir / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == [1, 2, 3]
    for s in stats:
        assert all(np.isfinite(s[k]) for k in ("g_adv", "cycle", "identity", "d_x", "d_y"))
        assert s["lr"] == pytest.approx(2e-4 * min(1.0, (3 - (s["step"] - 1)) / (3 - 1)))
    ckpt = checkpoint.load(run_dir / "checkpoint.pt", "cyclegan")
    assert set(ckpt["modules"]) == {"G", "F", "D_X", "D_Y", "G_ema", "F_ema"}   # --ema 0.999 by default
    assert ckpt["extra"]["pool_A"]["images"].shape == (3, 3, 32, 32)   # 3 steps x batch 1
    summary = json.loads((run_dir / "summary.json").read_text())
    for d in ("AtoB", "BtoA"):   # both directions, each next to its untranslated input
        assert summary[f"{d}_input_psnr_truth"] > 15
        assert np.isfinite(summary[f"{d}_psnr_truth"]) and np.isfinite(summary[f"{d}_cycle_psnr"])


def test_training_step_moves_generators_and_discriminators():
    from ganforge import config as C
    from ganforge.tasks.cyclegan import build

    cfg = C.resolve(C.TASKS["cyclegan"], steps=2, crop_size=32, load_size=36, width=4, batch_size=2)
    obj = build(cfg)
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in obj.modules.items()}
    stats = obj.train_step(0)
    assert set(stats) >= {"g_adv", "cycle", "identity", "d_x", "d_y", "lr"}
    for k, m in obj.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), k
    assert len(obj.pool_A.images) == len(obj.pool_B.images) == 2


def test_resume_matches_an_uninterrupted_run(tmp_path):
    args = ["train", "cyclegan", *TINY, "--sample-every", "0", "--pool-size", "2", "--batch-size", "2"]
    assert main([*args, "--steps", "4", "--out", "a"]) == 0
    assert main([*args, "--steps", "2", "--out", "b"]) == 0
    assert main(["train", "cyclegan", "--resume", "b/cyclegan-0001", "--steps", "4", "--no-progress"]) == 0
    a, b = (checkpoint.load(f"{d}/cyclegan-0001") for d in "ab")
    assert set(a["modules"]) == set(b["modules"]) == {"G", "F", "D_X", "D_Y", "G_ema", "F_ema"}   # --ema by default
    for name in a["modules"]:   # the averages too: a resumed run averages on from where it stopped
        for k, v in a["modules"][name].items():
            assert torch.equal(v, b["modules"][name][k]), (name, k)


def test_eval_reports_both_directions(run_dir):
    from ganforge.metrics.translation import psnr
    from ganforge.tasks.cyclegan import evaluate
    from ganforge.data import to_float
    from ganforge.data.unpaired import embedded

    m = evaluate(checkpoint.load(run_dir), num=8)
    for d in ("AtoB", "BtoA"):
        for k in ("cycle_psnr", "cycle_ssim", "psnr_truth", "ssim_truth", "input_psnr_truth", "input_ssim_truth"):
            assert np.isfinite(m[f"{d}_{k}"]), k
    data = embedded(36, 32)
    assert m["AtoB_input_psnr_truth"] == pytest.approx(psnr(to_float(data.testA[:8]), to_float(data.truthA[:8])).mean().item())
    assert "AtoB_fid" not in m   # embedded set + extractor auto: FID is not reported (see evaluate)


def _mixed_folder(root):
    rng = np.random.default_rng(0)
    (root / "sub").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 255, (45, 70, 3), np.uint8)).save(root / "wide.png")
    Image.fromarray(rng.integers(0, 255, (90, 33, 3), np.uint8)).save(root / "tall.jpg")
    Image.fromarray(rng.integers(0, 255, (32, 32), np.uint8)).save(root / "gray.bmp")
    Image.fromarray(rng.integers(0, 255, (17, 19, 3), np.uint8)).save(root / "sub" / "small.png")
    (root / "broken.jpg").write_bytes(b"not a jpeg at all")
    (root / "notes.txt").write_text("ignored")
    return {"wide.png": (70, 45), "tall.jpg": (33, 90), "gray.bmp": (32, 32), "sub/small.png": (19, 17)}


def test_translate_folder_of_mixed_images(run_dir, tmp_path, capsys):
    expected = _mixed_folder(tmp_path / "in")
    assert main(["translate", str(run_dir), str(tmp_path / "in"), "-o", "out", "--batch-size", "2"]) == 0
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "translated 4 image(s)" in captured.out
    for name, size in expected.items():
        with Image.open(f"out/{name}") as img:
            assert img.size == size and img.mode == "RGB"
    assert not (tmp_path / "out" / "broken.jpg").exists()
    assert main(["translate", str(run_dir), str(tmp_path / "in"), "-o", "out2", "--strict"]) == 2
    assert main(["translate", str(run_dir / "checkpoint.pt"), str(tmp_path / "in" / "wide.png"), "-o", "one.png",
                 "--direction", "BtoA", "--size", "48"]) == 0
    assert Image.open("one.png").size == (70, 45)


def test_translate_matches_the_generator_at_the_training_size(run_dir, tmp_path):
    from ganforge.api import load, translate

    tr = load(run_dir)
    x = torch.from_numpy(np.random.default_rng(1).integers(0, 255, (32, 32, 3), np.uint8))
    Image.fromarray(x.numpy()).save("x.png")
    written, failed = translate(run_dir, "x.png", "y.png", log=lambda m: None)
    assert written and not failed
    want = tr.translate(x.permute(2, 0, 1)[None].float() / 127.5 - 1)[0]
    got = torch.from_numpy(np.array(Image.open("y.png"))).permute(2, 0, 1).float() / 127.5 - 1
    assert (got - want).abs().max() < 1.5 / 127.5   # only uint8 rounding


def test_translate_bad_input(run_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["translate", str(run_dir), "empty", "-o", "out"]) == 2
    assert "holds no images" in capsys.readouterr().err
    assert main(["translate", str(run_dir), "missing.png", "-o", "out"]) == 2
    gan = checkpoint.save(tmp_path / "gan.pt", {"task": "gan", "config": {}, "modules": {}})
    Image.new("RGB", (8, 8)).save("x.png")
    assert main(["translate", str(gan), "x.png", "-o", "out"]) == 2
    assert "is a gan checkpoint; this command needs a cyclegan checkpoint" in capsys.readouterr().err
    assert main(["train", "cyclegan", "--crop-size", "30", "--no-progress"]) == 2
    assert main(["train", "cyclegan", "--data", "nowhere/", "--no-progress"]) == 2


def test_export_onnx_matches_pytorch(run_dir, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install 'ganforge[export]')")
    pytest.importorskip("onnx", reason="onnx not installed (pip install 'ganforge[export]')")
    from ganforge.api import load

    assert main(["export", str(run_dir), "--format", "onnx", "-o", "f.onnx", "--direction", "BtoA"]) == 0
    x = torch.rand(2, 3, 40, 52) * 2 - 1   # other batch and size than the export's dummy input
    got = ort.InferenceSession("f.onnx").run(None, {"image": x.numpy()})[0]
    want = load(run_dir).translate(x, "BtoA").numpy()
    assert np.abs(got - want).max() < 1e-4


def test_eval_fid_on_a_folder_dataset(tmp_path, monkeypatch):
    # A stand-in extractor (per-channel means and stds) keeps this fast; the FID plumbing is real.
    from ganforge import config as C
    from ganforge.metrics import extractors
    from ganforge.tasks.cyclegan import build, evaluate

    rng = np.random.default_rng(0)
    for sub in ("trainA", "trainB", "testA", "testB"):
        (tmp_path / "ds" / sub).mkdir(parents=True)
        for k in range(4):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), np.uint8)).save(tmp_path / "ds" / sub / f"{k}.png")
    cfg = C.resolve(C.TASKS["cyclegan"], data=str(tmp_path / "ds"), steps=1, crop_size=32, load_size=36, width=4)
    obj = build(cfg)
    checkpoint.save(tmp_path / "c.pt", obj.state(0))

    class Stats:
        name = "channel-stats"

        def features(self, x):
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    monkeypatch.setattr(extractors, "get_extractor", lambda spec, shape, dataset, **_: Stats())   # device=...
    m = evaluate(checkpoint.load(tmp_path / "c.pt"), extractor="inception")
    assert np.isfinite(m["AtoB_fid"]) and np.isfinite(m["BtoA_fid"]) and m["fid_features"] == "channel-stats"
    assert "AtoB_psnr_truth" not in m   # no known truth for folder data


def test_tiled_translation_agrees_with_the_whole_image(run_dir, tmp_path):
    from ganforge.api import load

    tr = load(run_dir)
    x = torch.rand(1, 3, 37, 4 * 60 + 30) * 2 - 1            # sides not multiples of 4: padded, cropped back
    whole = tr.translate(x)
    tiled = tr.translate(x, tile=32)
    assert tiled.shape == whole.shape == x.shape and (tiled - whole).abs().max() < 1e-4
    Image.fromarray(((x[0].permute(1, 2, 0) + 1) * 127.5).round().numpy().astype(np.uint8)).save("x.png")
    assert main(["translate", str(run_dir), "x.png", "-o", "t.png", "--tile", "32"]) == 0
    assert main(["translate", str(run_dir), "x.png", "-o", "w.png"]) == 0
    t, w = (np.array(Image.open(p), np.int16) for p in ("t.png", "w.png"))
    assert t.shape == (37, 270, 3) and np.abs(t - w).max() <= 1
    assert main(["translate", str(run_dir), "x.png", "-o", "bad.png", "--tile", "30"]) == 2


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
def test_upsample_mode_trains_and_round_trips(upsample, tmp_path):
    from ganforge.api import load

    assert main(["train", "cyclegan", "--steps", "2", "--sample-every", "0", "--upsample", upsample, *TINY]) == 0
    ckpt = checkpoint.load("runs/cyclegan-0001")
    assert ckpt["config"]["upsample"] == upsample
    tr = load("runs/cyclegan-0001")
    kinds = {type(m) for m in tr.generator("AtoB").modules()}
    assert (torch.nn.ConvTranspose2d in kinds) == (upsample == "deconv") and (torch.nn.Upsample in kinds) == (upsample == "resize")
    x = torch.from_numpy(np.random.default_rng(2).integers(0, 255, (44, 52, 3), np.uint8))
    Image.fromarray(x.numpy()).save("x.png")
    assert main(["translate", "runs/cyclegan-0001", "x.png", "-o", "y.png"]) == 0
    want = tr.translate(x.permute(2, 0, 1)[None].float() / 127.5 - 1)[0]
    got = torch.from_numpy(np.array(Image.open("y.png"))).permute(2, 0, 1).float() / 127.5 - 1
    assert (got - want).abs().max() < 1.5 / 127.5
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install 'ganforge[export]')")
    pytest.importorskip("onnx", reason="onnx not installed (pip install 'ganforge[export]')")
    assert main(["export", "runs/cyclegan-0001", "-o", "g.onnx"]) == 0
    z = torch.rand(1, 3, 36, 48) * 2 - 1
    assert np.abs(ort.InferenceSession("g.onnx").run(None, {"image": z.numpy()})[0] - tr.translate(z).numpy()).max() < 1e-4


def test_checkpoint_without_upsample_loads_as_deconv(tmp_path):
    # Checkpoints from before --upsample and --norm have transposed convolutions, instance norm and
    # neither key; today's defaults are resize and none.
    from ganforge.api import load
    from ganforge.engine.trainer import resume_config

    assert main(["train", "cyclegan", "--steps", "2", "--sample-every", "0", "--upsample", "deconv", "--norm", "instance",
                 *TINY]) == 0
    raw = torch.load("runs/cyclegan-0001/checkpoint.pt", weights_only=True)
    del raw["config"]["upsample"], raw["config"]["norm"]
    torch.save(raw, tmp_path / "old.pt")
    tr = load(tmp_path / "old.pt")
    assert (tr.config.upsample, tr.config.norm) == ("deconv", "instance")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(tr.translate(x), load("runs/cyclegan-0001").translate(x))
    cfg, _ = resume_config("cyclegan", tmp_path / "old.pt", steps=3)
    assert (cfg.upsample, cfg.norm) == ("deconv", "instance")
    assert main(["train", "cyclegan", "--resume", str(tmp_path / "old.pt"), "--steps", "3", "--no-progress"]) == 0


def test_ema_averages_are_what_users_translate_and_export(run_dir):
    from ganforge.api import load
    from ganforge.tasks.cyclegan import Translator

    ckpt = checkpoint.load(run_dir / "checkpoint.pt", "cyclegan")
    assert ckpt["extra"]["ema_updates"] == {"G": 3, "F": 3}
    tr = load(run_dir)
    for direction, net in (("AtoB", "G"), ("BtoA", "F")):
        used = tr.generator(direction).state_dict()
        assert all(torch.equal(used[k], v) for k, v in ckpt["modules"][f"{net}_ema"].items())
        assert any(not torch.equal(used[k], v) for k, v in ckpt["modules"][net].items())
    assert Translator.inference_modules(ckpt["modules"]) == ["G_ema", "F_ema"]
    assert Translator.inference_modules({"G": {}, "F": {}, "D_X": {}}) == ["G", "F"]
    assert Translator.inference_modules({"G": {}}) == ["G"]   # an imported AtoB generator alone
