import json

import pytest
import torch
from PIL import Image

import ganforge
from ganforge.cli import main
from ganforge.config import GANConfig
from ganforge.errors import TrainingDiverged, UserError
from ganforge.nn import checkpoint
from ganforge.tasks.gan import GANObjective

TINY = dict(data="synthetic:1x28x28:64", width=8, latent_dim=8, batch_size=8, progress=False)
TINY_FLAGS = ["--data", "synthetic:1x28x28:64", "--width", "8", "--latent-dim", "8", "--batch-size", "8",
              "--no-progress"]


def states(run_dir):
    return torch.load(run_dir / "checkpoint.pt", weights_only=True)


def test_api_train_writes_a_complete_run_dir(tmp_path):
    run = ganforge.train("gan", model="mlp", steps=3, sample_every=2, out=str(tmp_path / "runs"), **TINY)
    assert run.name == "gan-0001"
    for name in ("config.yaml", "stats.jsonl", "checkpoint.pt", "samples.png", "losses.png", "summary.json",
                 "samples/step_000002.png", "samples/step_000003.png"):
        assert (run / name).exists(), name
    lines = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3]
    assert {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "d_real", "d_fake", "images_per_s"} <= set(lines[0])
    ckpt = states(run)
    assert ckpt["task"] == "gan" and ckpt["step"] == 3 and ckpt["config"]["model"] == "mlp"
    assert ganforge.train("gan", model="mlp", steps=1, out=str(tmp_path / "runs"), **TINY).name == "gan-0002"


@pytest.mark.parametrize("model", ["convgan", "mlp"])
def test_resume_is_exact(tmp_path, model):
    """N steps + resume for N more == 2N steps straight (same seed, CPU)."""
    kw = dict(TINY, model=model, sample_every=0, out=str(tmp_path / "runs"))
    straight = ganforge.train("gan", steps=6, **kw)
    half = ganforge.train("gan", steps=3, **kw)
    resumed = ganforge.train("gan", resume=half, steps=6)
    assert resumed == half
    a, b = states(straight), states(resumed)
    assert b["step"] == 6
    for net in ("G", "D"):
        for k, v in a["modules"][net].items():
            assert torch.equal(v, b["modules"][net][k]), f"{net}.{k} differs"
    steps = [json.loads(x)["step"] for x in (half / "stats.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_resume_rejects_architecture_change_and_finished_run(tmp_path):
    run = ganforge.train("gan", model="mlp", steps=2, out=str(tmp_path), **TINY)
    with pytest.raises(UserError, match="--model cannot change"):
        ganforge.train("gan", resume=run, steps=4, model="dcgan")
    with pytest.raises(UserError, match="already at step 2"):
        ganforge.train("gan", resume=run, steps=2)


def test_interrupted_checkpoint_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    checkpoint.save(path, {"task": "gan", "step": 1, "config": {}, "meta": {}, "modules": {}})

    def dying_save(obj, f):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt   # killed mid-write

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {"task": "gan", "step": 2})
    monkeypatch.undo()
    assert checkpoint.load(path)["step"] == 1
    assert list(tmp_path.iterdir()) == [path]


def test_corrupt_truncated_and_foreign_checkpoints(tmp_path):
    run = ganforge.train("gan", model="mlp", steps=1, out=str(tmp_path), **TINY)
    good = (run / "checkpoint.pt").read_bytes()
    (tmp_path / "trunc.pt").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 100)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    for name, msg in (("trunc.pt", "not a readable checkpoint"), ("junk.pt", "not a readable checkpoint"),
                      ("foreign.pt", "not a ganforge checkpoint"), ("missing.pt", "does not exist")):
        with pytest.raises(UserError, match=msg) as e:
            checkpoint.load(tmp_path / name)
        assert name in str(e.value)
    with pytest.raises(UserError, match="gan checkpoint; this command needs a classifier"):
        checkpoint.load(run / "checkpoint.pt", "classifier")


def test_nan_stops_run_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_step = GANObjective.train_step

    def step(self, i):
        stats = real_step(self, i)
        return dict(stats, g_loss=float("nan")) if i == 4 else stats

    monkeypatch.setattr(GANObjective, "train_step", step)
    with pytest.raises(TrainingDiverged, match=r"g_loss became nan at step 5.*step 4"):
        ganforge.train("gan", model="mlp", steps=8, ckpt_every=2, out=str(tmp_path), **TINY)
    assert states(tmp_path / "gan-0001")["step"] == 4


def test_generator_sample_api(tmp_path):
    run = ganforge.train("gan", model="dcgan", steps=1, out=str(tmp_path), **TINY)
    gen = ganforge.load(run / "checkpoint.pt")
    a, b = gen.sample(5, seed=1), gen.sample(5, seed=1)
    assert a.shape == (5, 1, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, gen.sample(5, seed=2))


def test_cli_train_sample_resume(tmp_path, capsys):
    assert main(["train", "gan", "--model", "dcgan", "--steps", "2", "--out", "r", *TINY_FLAGS]) == 0
    out = capsys.readouterr().out
    assert "r/gan-0001" in out and "checkpoint.pt" in out
    assert main(["sample", "r/gan-0001/checkpoint.pt", "-n", "6", "--seed", "0", "-o", "g/grid.png",
                 "--individual", "ind"]) == 0
    grid = Image.open("g/grid.png")
    assert grid.size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))   # 3x2 grid of 28 px + 2 px padding, upscaled x2
    assert sorted(p.name for p in (tmp_path / "ind").iterdir())[:2] == ["000000.png", "000001.png"]
    assert main(["train", "gan", "--resume", "r/gan-0001", "--steps", "3", "--no-progress"]) == 0
    assert states(tmp_path / "r/gan-0001")["step"] == 3


def test_cli_config_file_and_set(tmp_path):
    (tmp_path / "c.yaml").write_text("model: mlp\nsteps: 5\nlr: 1e-3\n")
    assert main(["train", "gan", "--config", "c.yaml", "--steps", "2", "--set", "beta1=0.9", "--out", "r",
                 *TINY_FLAGS]) == 0
    cfg = states(tmp_path / "r/gan-0001")["config"]
    assert (cfg["model"], cfg["steps"], cfg["lr"], cfg["beta1"]) == ("mlp", 2, 1e-3, 0.9)


@pytest.mark.parametrize("args, message", [
    (["--model", "dcgn"], "unknown gan model 'dcgn'; choose from: acgan, cgan, convgan, dcgan, infogan"),
    (["--data", "mnits"], "unknown dataset 'mnits'"),
    (["--loss", "wgan"], "loss must be one of"),
    (["--steps", "0"], "--steps must be positive"),
    (["--batch-size", "-1"], "--batch-size must be positive"),
    (["--batch-size", "100"], "larger than the dataset (64 images)"),
    (["--data", "folder:empty"], "holds no images"),
    (["--out", "afile/sub"], "cannot write to output folder"),
    (["--config", "bad.yaml"], "unknown key 'lerning_rate'"),
    (["--config", "badtype.yaml"], "steps must be int"),
    (["--set", "steps"], "KEY=VALUE"),
    (["--resume", "nowhere"], "does not exist"),
])
def test_cli_bad_input_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("")
    (tmp_path / "bad.yaml").write_text("lerning_rate: 0.1\n")
    (tmp_path / "badtype.yaml").write_text("steps: many\n")
    assert main(["train", "gan", "--steps", "1", *TINY_FLAGS, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_unreadable_images_skipped_or_strict(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    for i in range(8):
        Image.new("L", (28, 28), i * 30).save(tmp_path / "imgs" / f"{i}.png")
    (tmp_path / "imgs" / "bad.png").write_bytes(b"corrupt")
    flags = ["train", "gan", "--model", "mlp", "--data", "folder:imgs", "--image-size", "28", "--channels", "1",
             "--steps", "1", "--batch-size", "4", "--width", "8", "--no-progress", "--out", "r"]
    assert main(flags) == 0
    assert "skipped 1 image(s) in" in capsys.readouterr().err
    assert main(flags + ["--strict"]) == 2
    assert "bad.png" in capsys.readouterr().err


def test_models_and_datasets_commands(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("mlp", "convgan", "dcgan"))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "mnist5k" in out and "embedded" in out and "not downloaded" in out


def test_precision_auto_resolves_to_what_the_cpu_runs_natively(capsys, monkeypatch):
    import torch

    from ganforge.engine import runtime

    cpu = torch.device("cpu")
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(runtime, "native_bf16", lambda native=native: native)
        assert runtime.resolve_precision("auto", cpu) == expected
        assert f"precision auto: {expected}" in capsys.readouterr().err
    # asked for explicitly: kept, with a warning
    assert runtime.resolve_precision("bf16", cpu) == "bf16" and "emulated" in capsys.readouterr().err


def test_precision_auto_picks_bf16_for_a_family_only_where_measured_no_worse(capsys, monkeypatch):
    import torch

    from ganforge.config import precision as P
    from ganforge.engine import runtime

    cpu = torch.device("cpu")
    monkeypatch.setattr(runtime, "native_bf16", lambda: True)
    ok, collapsed = {"fp32": [50, 60], "bf16": [55, 58, 60]}, {"fp32": [50, 60], "bf16": [40, 41, 147]}
    monkeypatch.setitem(P.MEASURED, "fam", {"amx": [ok], "neon": [ok, collapsed],
                                            "avx512_bf16": [{"fp32": [57], "bf16": [240, 140, 116]}]})
    for path, expected in (("amx", "bf16"), ("avx512_bf16", "fp32"), ("neon", "fp32"), (None, "fp32")):
        monkeypatch.setattr(runtime, "cpu_bf16_path", lambda path=path: path)
        rule = lambda p: P.cpu_bf16_allowed("fam", p)   # noqa: E731
        assert runtime.resolve_precision("auto", cpu, cpu_rule=rule) == expected
        assert f"precision auto: {expected}" in capsys.readouterr().err
    monkeypatch.setattr(runtime, "cpu_bf16_path", lambda: "amx")
    assert P.cpu_bf16_allowed("unmeasured-family", "amx") == (
        False, "no sweep has compared bf16 with fp32 for unmeasured-family on AMX CPUs yet")
    # a GAN config carries its family's rule; an explicit --precision is kept
    from ganforge import config as C

    cfg = C.resolve(C.TASKS["gan"], model="mlp")
    assert cfg.cpu_bf16_allowed("avx512_bf16")[0] is False   # issue 25's EPYC: bf16 116-244 vs fp32 57
    assert cfg.cpu_bf16_allowed("amx")[0] is False   # this branch's sweep: one bf16 seed of three at 147
    assert C.resolve(C.TASKS["gan"], model="cgan").cpu_bf16_allowed("amx")[0] is True    # 7.9-8.7 vs 8.6-9.2
    assert C.resolve(C.TASKS["gan"], model="dcgan").cpu_bf16_allowed("amx")[0] is False  # one sweep: 68.9 vs 67.3
    assert C.resolve(C.TASKS["gan"], model="acgan").cpu_bf16_allowed("amx")[0] is True   # 7.0 / 8.2 vs 8.4
    assert C.resolve(C.TASKS["gan"], model="infogan").cpu_bf16_allowed("amx")[0] is False  # 20.7 median vs 19.5
    # a figure where higher is better (SSIM): bf16's worst seed must not be below fp32's worst
    good, wrecked = ({"higher_is_better": True, "metric": "SSIM", "fp32": [0.81, 0.75, 0.77], "bf16": b}
                     for b in ([0.80, 0.76, 0.78], [0.82, 0.55, 0.79]))
    monkeypatch.setitem(P.MEASURED, "ssim-fam", {"amx": [good], "neon": [wrecked]})
    assert P.cpu_bf16_allowed("ssim-fam", "amx")[0] is True
    assert P.cpu_bf16_allowed("ssim-fam", "neon") == (
        False, "for ssim-fam on NEON CPUs a sweep gave SSIM 0.79 median / 0.55 worst in bf16 against fp32's worst "
               "seed 0.75")
    # CycleGAN's config carries the rule too, read from its SSIM sweeps: the one without --ema allowed
    # bf16, the one with it (the default) did not
    ok, why = C.resolve(C.TASKS["cyclegan"]).cpu_bf16_allowed("amx")
    assert not ok and why.endswith("A -> B SSIM 0.721 median / 0.717 worst in bf16 against fp32's worst seed 0.728")
    assert P._verdict(P.MEASURED["cyclegan"]["amx"][1])[0] is True   # B -> A without --ema
    assert C.resolve(C.TASKS["cyclegan"]).cpu_bf16_allowed("avx512_bf16")[0] is False   # not measured there
    assert runtime.resolve_precision("bf16", cpu, cpu_rule=rule) == "bf16"


def test_batch_spread_is_the_mean_std_over_the_batch():
    import torch

    from ganforge.tasks.gan.objective import batch_spread

    torch.manual_seed(0)
    for shape in ((16, 16, 1, 32, 32), (5, 3, 8, 8)):
        x = torch.randn(shape) * 0.7 + 0.2
        assert batch_spread(x) == pytest.approx(x.std(0).mean().item(), rel=1e-5)
    assert batch_spread(torch.ones(4, 1, 2, 2)) == 0.0   # identical images: no spread
