"""Conditional GAN families (cgan, acgan, infogan, lsgan): the heads, their losses by hand, sampling
with labels and codes through the API and the CLI, and bad input."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

import ganforge
from ganforge.nn import losses
from ganforge import models
from ganforge.cli import main
from ganforge.models.conditional import make_codes

TINY = ["--data", "mnist5k", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--steps", "2",
        "--no-progress", "--sample-every", "0"]


def test_the_label_changes_the_generated_image():
    G, _ = models.create("cgan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=4, num_classes=10)
    G.eval()
    z = torch.randn(1, 8).expand(10, 8)
    x = G(z, torch.arange(10))
    assert all((x[i] - x[0]).abs().max() > 1e-4 for i in range(1, 10))


def test_projection_discriminator_by_hand():
    _, D = models.create("cgan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=4, num_classes=10,
                         cond="projection")
    D.eval()
    x, y = torch.randn(3, 1, 28, 28), torch.tensor([1, 4, 9])
    f = D.backbone.forward_features(x)
    expected = D.backbone.forward_head(f) + (D.embed.weight[y] * f.flatten(1)).sum(1)
    torch.testing.assert_close(D(x, y)["adv"], expected)
    # the label matters: same images, other labels, other scores
    assert not torch.allclose(D(x, y)["adv"], D(x, (y + 1) % 10)["adv"])


def test_concat_discriminator_reads_the_label_as_one_hot_maps():
    _, D = models.create("cgan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=4, num_classes=10)
    D.eval()
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([0, 7])
    maps = torch.zeros(2, 10, 28, 28)
    maps[0, 0], maps[1, 7] = 1, 1
    expected = D.backbone.forward_head(D.backbone.forward_features(torch.cat([x, maps], 1)))
    torch.testing.assert_close(D(x, y)["adv"], expected)


def test_auxiliary_losses_by_hand():
    logits, labels = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), torch.tensor([0, 2])
    by_hand = -(math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-1))) + math.log(1 / (2 + math.e))) / 2
    assert losses.cls_loss(logits, labels).item() == pytest.approx(by_hand, rel=1e-6)
    # InfoGAN: 2 categorical values and one continuous code with mean 0.5, log-std 0 for target 1.5
    out = torch.tensor([[3.0, 1.0, 0.5, 0.0]])
    codes = make_codes(torch.tensor([1]), torch.tensor([[1.5]]), 2)
    ce = -math.log(math.exp(1) / (math.exp(3) + math.exp(1)))
    nll = 0.5 * (1.5 - 0.5) ** 2 + 0.5 * math.log(2 * math.pi)
    assert losses.code_loss(out, codes, 2).item() == pytest.approx(ce + nll, rel=1e-6)
    assert losses.code_loss(out, codes, 2, cont_weight=0.1).item() == pytest.approx(ce + 0.1 * nll, rel=1e-6)


def test_infogan_codes_and_q_head_shapes():
    G, D = models.create("infogan", kind="gan", image_shape=(1, 28, 28), latent_dim=8, width=4, cat_codes=10,
                         cont_codes=2)
    c = G.sample_c(5)
    assert c.shape == (5, 12) and torch.equal(c[:, :10].sum(1), torch.ones(5))
    assert c[:, 10:].abs().max() <= 1
    out = D(G(torch.randn(5, 8), c))
    assert out["code"].shape == (5, 10 + 2 * 2)


def test_lsgan_defaults_to_the_least_squares_loss_and_a_flag_overrides_it():
    from ganforge import config as C

    assert C.resolve(C.TASKS["gan"], model="lsgan").loss == "lsgan"
    assert C.resolve(C.TASKS["gan"], model="lsgan", loss="hinge").loss == "hinge"
    assert C.resolve(C.TASKS["gan"], model="dcgan").loss == "nonsaturating"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond")
    for model in ("cgan", "infogan", "acgan"):
        assert main(["train", "gan", "--model", model, *TINY, "--out", str(out / model)]) == 0
    return {m: out / m / "gan-0001" for m in ("cgan", "infogan", "acgan")}


def test_sample_labels_through_the_api(runs):
    gen = ganforge.load(runs["cgan"])
    assert gen.num_classes == 10
    a = gen.sample(4, seed=0, labels=3)
    b = gen.sample(4, seed=0, labels=[3, 3, 3, 3])
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, gen.sample(4, seed=0, labels=5))


def test_sample_cli_label_rows_traverse_and_interpolate(runs, tmp_path, capsys):
    from PIL import Image

    assert main(["sample", str(runs["cgan"]), "--label", "3", "-n", "8", "-o", "l.png", "--seed", "1"]) == 0
    assert main(["sample", str(runs["acgan"]), "-n", "20", "-o", "rows.png"]) == 0   # one row per class
    cells = lambda n: (n * (28 + 2) + 2) * 2   # noqa: E731  (28 px digits, 2 px gaps, shown at 2x)
    assert Image.open("rows.png").size[1] == cells(10)
    assert main(["sample", str(runs["infogan"]), "--traverse", "c2", "--nrow", "5", "-o", "t.png"]) == 0
    assert Image.open("t.png").size == (cells(5), cells(10))
    assert main(["sample", str(runs["cgan"]), "--interpolate", "-n", "6", "--label", "2", "-o", "i.png"]) == 0
    assert Image.open("i.png").size == (cells(6), cells(1))


@pytest.mark.parametrize("args, message", [
    (["--label", "10"], "--label must be in 0..9"),
    (["--label", "seven"], "unknown class 'seven'"),
    (["--traverse", "c1"], "--traverse needs a model with codes"),
])
def test_bad_sampling_requests_on_cgan(runs, args, message, capsys):
    assert main(["sample", str(runs["cgan"]), *args, "-o", "x.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_label_on_a_model_without_classes(runs, capsys):
    assert main(["sample", str(runs["infogan"]), "--label", "1", "-o", "x.png"]) == 2
    assert "takes no --label" in capsys.readouterr().err


def test_traverse_beyond_the_codes(runs, capsys):
    assert main(["sample", str(runs["infogan"]), "--traverse", "c3", "-o", "x.png"]) == 2
    assert "continuous codes c1, c2" in capsys.readouterr().err


def test_conditional_model_on_unlabelled_data(capsys):
    assert main(["train", "gan", "--model", "acgan", *TINY[2:], "--data", "synthetic:1x28x28:32"]) == 2
    assert "acgan needs a labelled dataset" in capsys.readouterr().err


def test_eval_of_conditional_and_infogan_checkpoints(runs):
    from ganforge.metrics.generative import evaluate_generator

    m = evaluate_generator(ganforge.load(runs["cgan"]), num=60, extractor="classifier")
    assert 0 <= m["label_acc"] <= 1 and math.isfinite(m["fid_class_mean"]) and "fid/3" in m
    m = evaluate_generator(ganforge.load(runs["infogan"]), num=60, extractor="classifier")
    assert 0.1 <= m["code_purity"] <= 1 and 1 <= m["code_classes"] <= 10


def test_conditional_step_with_d_and_g_steps_keeps_each_head_trained():
    from ganforge.config import GANConfig
    from ganforge.data import ImageData
    from ganforge.tasks.gan import GANObjective

    data = ImageData("tiny", torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8), torch.arange(16) % 4,
                     ["a", "b", "c", "d"])
    obj = GANObjective(GANConfig(model="acgan", width=4, latent_dim=8, batch_size=8, d_steps=2, g_steps=2,
                                 precision="fp32"), data=data)
    cls_before = obj.D.cls.weight.detach().clone()
    stats = obj.train_step(0)
    assert {"d_aux", "g_aux", "d_cls_acc_real"} <= set(stats)
    assert not torch.equal(cls_before, obj.D.cls.weight)
    assert F.softmax(obj.D(obj.real_batch(0)[0], None)["cls"], 1).shape == (8, 4)


def test_cgan_on_a_folder_with_one_sub_folder_per_class(tmp_path):
    from PIL import Image

    for k, value in (("circles", 40), ("squares", 220)):
        (tmp_path / "shapes" / k).mkdir(parents=True)
        for i in range(8):
            Image.new("L", (28, 28), value + i).save(tmp_path / "shapes" / k / f"{i}.png")
    run = ganforge.train("gan", model="cgan", data=f"folder:{tmp_path / 'shapes'}", width=4, latent_dim=8,
                         batch_size=8, steps=2, progress=False, sample_every=0, out=str(tmp_path / "runs"))
    gen = ganforge.load(run)
    assert gen.classes == ["circles", "squares"]
    assert gen.sample(2, labels=gen.label_index("squares")).shape == (2, *gen.image_shape)


def test_warp_turns_moves_and_repeats():
    from ganforge.nn.augment import random_warp, warp

    x = torch.full((1, 1, 5, 5), -1.0)
    x[0, 0, 0, 1] = 1
    torch.testing.assert_close(warp(x, torch.zeros(1), torch.ones(1), torch.zeros(1, 2)), x)
    torch.testing.assert_close(warp(x, torch.tensor([math.pi / 2]), torch.ones(1), torch.zeros(1, 2)),
                               torch.rot90(x, 1, (2, 3)), atol=1e-5, rtol=0)
    moved = warp(x, torch.zeros(1), torch.ones(1), torch.tensor([[0.4, 0.0]]))   # 0.4 of the half side = 1 pixel
    torch.testing.assert_close(moved, torch.roll(x, 1, 3), atol=1e-5, rtol=0)
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    a, b = (random_warp(images, 20, torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a, b) and not torch.allclose(a, images)
    torch.testing.assert_close(random_warp(images, 0, scale=0, shift=0), images, atol=1e-5, rtol=0)


def test_cluster_info_and_consistency_by_hand():
    assert losses.cluster_info(torch.zeros(2, 2)).item() == pytest.approx(0.0, abs=1e-6)   # unsure, balanced
    assert losses.cluster_info(torch.tensor([[50.0, 0], [0, 50.0]])).item() == pytest.approx(-math.log(2), abs=1e-6)
    assert losses.cluster_info(torch.tensor([[50.0, 0], [50.0, 0]])).item() == pytest.approx(0.0, abs=1e-6)
    guess = torch.tensor([[0.0, math.log(3)]], requires_grad=True)   # softmax: 0.25, 0.75
    changed = torch.zeros(1, 2, requires_grad=True)
    loss = losses.consistency(guess, changed)
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    loss.backward()
    assert guess.grad is None and changed.grad.abs().sum() > 0   # only the changed image's guess moves


def test_infogan_warp_and_real_terms_train_q_and_resume_exactly(tmp_path):
    from ganforge.nn import checkpoint

    opts = dict(model="infogan", data="mnist5k", width=4, latent_dim=8, batch_size=8, progress=False, sample_every=0,
                info_warp=2.0, info_real=1.0, precision="fp32", out=str(tmp_path))
    straight = ganforge.train("gan", steps=4, **opts)
    resumed = ganforge.train("gan", resume=ganforge.train("gan", steps=2, **opts), steps=4)
    a, b = checkpoint.load(straight), checkpoint.load(resumed)
    logged = [json.loads(line) for line in (straight / "stats.jsonl").read_text().splitlines()]
    assert all(math.isfinite(s["d_info"]) and s["g_warp"] > 0 for s in logged if "d_loss" in s)
    for net in ("G", "D"):
        for k, v in a["modules"][net].items():
            torch.testing.assert_close(b["modules"][net][k], v, msg=f"{net}.{k}")
    plain = checkpoint.load(ganforge.train("gan", steps=4, **{**opts, "info_warp": 0.0, "info_real": 0.0}))
    assert not torch.equal(plain["modules"]["D"]["q.0.weight"], a["modules"]["D"]["q.0.weight"])


def test_info_terms_need_infogan(capsys):
    assert main(["train", "gan", "--model", "dcgan", *TINY[2:], "--info-warp", "1"]) == 2
    assert "--info-warp is a flag of infogan; --model dcgan has no such setting" in capsys.readouterr().err


def test_warp_every_adds_the_warp_terms_lazily_and_weighted(tmp_path):
    # --warp-every 2: g_warp on steps 0, 2 (logged as 1, 3) only, at twice the weight; the same
    # cross-entropy as every step's, so its logged value is about 2 * info_warp * log(cat_codes) early on
    opts = dict(model="infogan", data="mnist5k", width=4, latent_dim=8, batch_size=8, progress=False, sample_every=0,
                info_warp=1.0, precision="fp32", out=str(tmp_path), steps=4)
    lazy = ganforge.train("gan", warp_every=2, **opts)
    logged = [json.loads(line) for line in (lazy / "stats.jsonl").read_text().splitlines()]
    steps = [s for s in logged if "d_loss" in s]
    assert [s["step"] for s in steps if "g_warp" in s] == [1, 3]
    every = ganforge.train("gan", **opts)
    first = [json.loads(line) for line in (every / "stats.jsonl").read_text().splitlines()][0]
    assert steps[0]["g_warp"] == pytest.approx(2 * first["g_warp"], rel=0.05)
    assert steps[1]["d_info"] == 0.0 and steps[0]["d_info"] > 0
    assert main(["train", "gan", "--model", "infogan", *TINY[2:], "--info-warp", "1", "--warp-every", "0"]) == 2


@pytest.mark.parametrize("share,warped", [(0.5, 4), (1.0, 8)])
def test_warp_share_gives_the_warp_terms_the_first_part_of_the_batch(share, warped):
    from ganforge import config as C
    from ganforge.tasks.gan import GANObjective

    obj = GANObjective(C.resolve(C.TASKS["gan"], model="infogan", data="mnist5k", width=4, latent_dim=8, batch_size=8,
                                 progress=False, sample_every=0, info_warp=1.0, warp_share=share, precision="fp32"))
    sizes = []
    hook = obj.D.register_forward_hook(lambda m, inputs, out: sizes.append(inputs[0].shape[0]))
    stats = obj.train_step(0)
    hook.remove()
    # D: real, fake, warped real, warped fake; then G: fake, warped fake (this loss pairs no real with them)
    assert sorted(sizes) == sorted([8, 8, warped, warped, 8, warped]) and stats["g_warp"] > 0
    assert main(["train", "gan", "--model", "infogan", *TINY[2:], "--info-warp", "1", "--warp-share", "0"]) == 2
