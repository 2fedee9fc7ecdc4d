"""Data-efficient GAN training: augmentation, R1, spectral norm, ADA, EMA warm-up, presets, collapse watch."""
import pytest
import torch

import ganforge
from ganforge import config as C
from ganforge import models  # noqa: F401  (the GAN families register their flags before C.resolve)
from ganforge.nn import losses
from ganforge.nn.augment import FUNCS, AdaptiveP, augment
from ganforge.cli import main
from ganforge.nn import checkpoint

TINY = dict(data="synthetic:1x16x16:32", model="dcgan", width=4, latent_dim=8, batch_size=8, progress=False,
            sample_every=0, precision="fp32")


@pytest.mark.parametrize("op", list(FUNCS))
def test_each_augmentation_is_differentiable_and_repeatable(op):
    x = torch.randn(6, 3, 16, 16, requires_grad=True)
    y = FUNCS[op](x, 1.0, torch.Generator().manual_seed(5))
    assert y.shape == x.shape and not torch.equal(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # the same generator state augments two branches identically (the same random parameters)
    a = FUNCS[op](x.detach(), 1.0, torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, y.detach())
    # probability 0 leaves images untouched
    torch.testing.assert_close(FUNCS[op](x.detach(), 0.0, torch.Generator().manual_seed(5)), x.detach())


def test_translation_and_cutout_move_and_blank_pixels():
    x = torch.arange(64.0).view(1, 1, 8, 8) + 1
    t = FUNCS["translation"](x, 1.0, torch.Generator().manual_seed(1))
    kept = t[t != 0]
    assert set(kept.tolist()) <= set(x.flatten().tolist())   # a shift: only original values and zeros
    c = FUNCS["cutout"](x, 1.0, torch.Generator().manual_seed(1))
    assert 0 < (c == 0).sum() <= 16 and torch.equal(c[c != 0], x[c != 0])   # a square of at most 4x4 blanked


def test_r1_penalty_by_hand():
    """D(x) = sum(w * x): grad_x D = w for every image, so R1 = |w|^2."""
    w = torch.tensor([0.5, -2.0, 1.0])
    x = torch.randn(4, 3, requires_grad=True)
    logits = (x * w).sum(1)
    assert losses.r1_penalty(logits, x).item() == pytest.approx((w ** 2).sum().item())
    # and quadratically: D(x) = sum(x^2) has grad 2x, R1 = 4 E|x|^2
    x2 = torch.randn(5, 2, requires_grad=True)
    assert losses.r1_penalty(x2.pow(2).sum(1), x2).item() == pytest.approx(4 * x2.pow(2).sum(1).mean().item(), rel=1e-5)


def test_spectral_norm_keeps_the_largest_singular_value_near_one():
    from ganforge import models
    from ganforge.nn import spectral_norm_all

    _, D = models.create("dcgan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=8)
    spectral_norm_all(D)
    D.train()
    for _ in range(30):   # one power iteration per forward
        D(torch.randn(4, 1, 28, 28))
    for m in D.modules():
        if isinstance(m, torch.nn.Conv2d):
            sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=0.05)


def test_ada_probability_rises_when_d_overfits_and_falls_when_it_does_not():
    ada = AdaptiveP(target=0.6, speed_images=1000, interval=2)
    for _ in range(10):
        ada.observe(torch.full((8,), 3.0), 8)   # D is sure every real is real: overfitting
    assert ada.p == pytest.approx(10 * 8 / 1000)
    for _ in range(4):
        ada.observe(torch.full((8,), -1.0), 8)
    assert ada.p == pytest.approx(6 * 8 / 1000)


def test_ada_rises_on_a_tiny_set_and_resume_is_exact_with_every_option_on(tmp_path):
    opts = dict(TINY, data="synthetic:1x16x16:16", augment="ada", ada_kimg=0.2, r1=0.5, r1_every=2, spectral_norm=True,
                ema=0.9, lr_d=4e-4, lr_g=1e-4, out=str(tmp_path))
    straight = ganforge.train("gan", steps=12, **opts)
    half = ganforge.train("gan", steps=6, **opts)
    resumed = ganforge.train("gan", resume=half, steps=12)
    a, b = checkpoint.load(straight), checkpoint.load(resumed)
    assert a["extra"]["ada"]["p"] > 0   # D overfits 16 images at once: the probability went up
    assert a["extra"]["ada"]["p"] == b["extra"]["ada"]["p"]
    for net in ("G", "D", "G_ema"):
        for k, v in a["modules"][net].items():
            torch.testing.assert_close(b["modules"][net][k], v, msg=f"{net}.{k}")


def test_relativistic_with_r1_and_r2_trains_and_each_penalty_changes_d():
    from ganforge.tasks.gan import GANObjective

    def d_after_one_step(**kw):
        torch.manual_seed(0)
        obj = GANObjective(C.resolve(C.TASKS["gan"], **{**TINY, "loss": "relativistic", "r1_every": 1, **kw}))
        stats = obj.train_step(0)
        return stats, [p.detach().clone() for p in obj.modules["D"].parameters()]

    plain, d_plain = d_after_one_step()
    both, d_both = d_after_one_step(r1=10.0, r2=10.0)
    r2_only, d_r2 = d_after_one_step(r2=10.0)
    assert "r2" not in plain and both["r2"] > 0 and both["r1"] > 0 and "r1" not in r2_only
    assert plain["d_acc_real"] == plain["d_acc_fake"]   # the share of pairs where the real scored higher
    assert all(torch.isfinite(torch.tensor(v)) for v in both.values())
    differs = lambda a, b: any(not torch.equal(x, y) for x, y in zip(a, b))
    assert differs(d_plain, d_r2) and differs(d_r2, d_both)   # R2 alone, then R1 on top, each moved D


def test_compiled_d_trains_with_r1_and_r2(monkeypatch):
    """Compiled graphs have no double backward: the penalty steps run D uncompiled, the others compiled.
    aot_eager refuses a double backward as inductor does, without building C++."""
    from functools import partial

    from ganforge.tasks.gan import GANObjective

    monkeypatch.setattr(torch, "compile", partial(torch.compile, backend="aot_eager"))
    obj = GANObjective(C.resolve(C.TASKS["gan"], **{**TINY, "loss": "relativistic", "r1": 1.0, "r2": 1.0,
                                                    "r1_every": 2, "compile": True}))
    assert obj.train_D is not obj.D and obj.rt.eager(obj.train_D) is obj.D
    stats = [obj.train_step(s) for s in range(3)]
    assert stats[0]["r1"] > 0 and stats[0]["r2"] > 0 and "r1" not in stats[1] and stats[2]["r1"] > 0


def test_ada_with_the_relativistic_loss_is_refused(capsys):
    assert main(["train", "gan", "--model", "dcgan", "--loss", "relativistic", "--augment", "ada", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--augment ada" in err[0] and "diffaug" in err[0]


def test_preset_precedence(tmp_path):
    gan = C.TASKS["gan"]
    cfg = C.resolve(gan, preset="dcgan-mnist")
    assert (cfg.model, cfg.width, cfg.g_steps, cfg.ema) == ("dcgan", 32, 2, 0.999)
    (tmp_path / "c.yaml").write_text("width: 16\nema: 0.99\n")
    cfg = C.resolve(gan, config_file=str(tmp_path / "c.yaml"), preset="dcgan-mnist")   # --config over the preset
    assert (cfg.width, cfg.ema, cfg.g_steps) == (16, 0.99, 2)
    import argparse

    args = argparse.Namespace(preset="dcgan-mnist", width=24)                           # flags over --config
    cfg = C.resolve(gan, args, str(tmp_path / "c.yaml"), ["width=40"])                  # --set over flags
    assert cfg.width == 40 and cfg.ema == 0.99
    cfg = C.resolve(gan, args, str(tmp_path / "c.yaml"))
    assert cfg.width == 24


def test_preset_that_does_not_fit_the_model(capsys):
    assert main(["train", "gan", "--preset", "mlp-mnist", "--model", "dcgan", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "preset mlp-mnist is for mlp, not --model dcgan" in err[0]


def test_presets_command_lists_every_preset(capsys):
    from ganforge.config.presets import PRESETS

    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)


def test_collapse_watch_says_so_and_can_stop_the_run(tmp_path, capsys):
    from ganforge.errors import RunStopped

    # a D learning 50x faster than G on 16 images catches every fake within a few steps
    opts = dict(TINY, data="synthetic:1x16x16:16", lr_d=0.05, lr_g=1e-6, collapse_window=3, out=str(tmp_path))
    with pytest.raises(RunStopped, match="collapse watch") as e:
        ganforge.train("gan", steps=200, stop_on_collapse=True, **opts)
    assert "checkpoint saved" in str(e.value)
    assert "warning: collapse watch" in capsys.readouterr().err
    ckpt = checkpoint.load(tmp_path / "gan-0001")
    assert ckpt["step"] < 200


def test_augmented_training_step_passes_gradients_through_the_augmentation():
    from ganforge.data import ImageData
    from ganforge.tasks.gan import GANObjective

    data = ImageData("tiny", torch.randint(0, 256, (16, 3, 16, 16), dtype=torch.uint8))
    cfg = C.resolve(C.TASKS["gan"], **{k: v for k, v in TINY.items() if k != "data"}, augment="diffaug")
    obj = GANObjective(cfg, data=data)
    before = [p.detach().clone() for p in obj.G.parameters()]
    obj.train_step(0)
    assert any(not torch.equal(a, b) for a, b in zip(before, obj.G.parameters()))
    x = torch.zeros(2, 3, 16, 16)
    assert not torch.equal(augment(x + 1, 1.0, g=torch.Generator().manual_seed(0)), x + 1)


def test_augment_ops_choose_the_augmentations(tmp_path, capsys):
    run = ganforge.train("gan", steps=2, augment="diffaug", augment_ops="translation", out=str(tmp_path), **TINY)
    assert checkpoint.load(run)["config"]["augment_ops"] == "translation"
    assert main(["train", "gan", "--augment-ops", "rotate", "--steps", "1"]) == 2
    assert "--augment-ops must name some of color, translation, cutout" in capsys.readouterr().err


def test_recalibrate_bn_sets_exact_statistics_and_keeps_sync_bn():
    from ganforge.nn import recalibrate_bn

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=0.3), torch.nn.SyncBatchNorm(4))
    xs = [torch.randn(8, 3) * 2 + 1 for _ in range(5)]
    it = iter(xs)
    recalibrate_bn(net, lambda: (next(it),), batches=5)
    h = net[0](torch.cat(xs)).detach()
    torch.testing.assert_close(net[1].running_mean, h.mean(0))
    per_batch_var = torch.stack([net[0](x).detach().var(0) for x in xs])   # BN keeps each batch's unbiased var
    torch.testing.assert_close(net[1].running_var, per_batch_var.mean(0))
    assert not net.training and net[1].momentum == 0.3 and type(net[2]) is torch.nn.SyncBatchNorm


def test_ema_checkpoint_carries_its_own_batch_norm_statistics(tmp_path):
    from ganforge.api import train
    import ganforge

    run = train("gan", model="mlp", data="synthetic:1x8x8", width=8, latent_dim=4, steps=6, batch_size=8, ema=0.9,
                out=str(tmp_path), progress=False)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    g, e = ckpt["modules"]["G"], ckpt["modules"]["G_ema"]
    bn = [k for k in g if k.endswith("running_mean")]
    assert bn and all(not torch.equal(g[k], e[k]) for k in bn)   # not G's stats copied over
    assert ganforge.load(run / "checkpoint.pt").sample(4, seed=0).isfinite().all()


def test_every_preset_sets_its_own_steps():
    """A preset without steps would silently train the default 1,000 steps, not what its summary measured."""
    from ganforge.config.presets import PRESETS

    missing = [name for name, p in PRESETS.items() if not isinstance(p["values"].get("steps"), int)]
    assert not missing, f"presets without steps: {missing}"
    for name, p in PRESETS.items():
        cfg = C.resolve(C.TASKS["gan"], preset=name, model=p["models"][0])
        assert cfg.steps == p["values"]["steps"] != C.TASKS["gan"].steps
