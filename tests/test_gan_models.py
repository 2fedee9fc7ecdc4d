import pytest
import torch

from ganforge import models
from ganforge.config import GANConfig
from ganforge.data import ImageData
from ganforge.errors import UserError
from ganforge.tasks.gan import GANObjective

# lapgan trains on packed pyramids and videogan on clips: tests/test_lapgan.py, tests/test_videogan.py
GANS = [e.name for e in models.entries("gan") if e.name not in ("lapgan", "videogan")]
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64)]
K = 4   # classes of the tiny labelled data


def labelled(shape=(1, 28, 28), n=16):
    return ImageData("tiny", torch.randint(0, 256, (n, *shape), dtype=torch.uint8), torch.arange(n) % K,
                     [f"c{i}" for i in range(K)])


@pytest.mark.parametrize("name", GANS)
@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_and_finite(name, shape):
    """The contract: G(z, c) -> (N, C, H, W) in [-1, 1]; D(x, c) -> {"adv": (N,), heads...}."""
    G, D = models.create(name, kind="gan", image_shape=shape, latent_dim=16, width=8, num_classes=K, cat_codes=5,
                         cont_codes=2)
    c = G.sample_c(3) if hasattr(G, "sample_c") else None
    x = G(torch.randn(3, 16), c)
    assert x.shape == (3, *shape)
    assert torch.isfinite(x).all() and x.abs().max() <= 1
    out = D(x, c)
    assert out["adv"].shape == (3,) and torch.isfinite(out["adv"]).all()
    expected = {"cgan": {"adv"}, "acgan": {"adv", "cls"}, "infogan": {"adv", "code"}}.get(name, {"adv"})
    assert set(out) == expected
    if "cls" in out:
        assert out["cls"].shape == (3, K)
    if "code" in out:
        assert out["code"].shape == (3, 5 + 2 * 2)


@pytest.mark.parametrize("name", GANS)
@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "lsgan", "hinge"])
def test_one_train_step_changes_both_nets(name, loss):
    data = labelled()
    cfg = GANConfig(model=name, loss=loss, width=8, latent_dim=8, batch_size=8, steps=1)
    obj = GANObjective(cfg, data=data)
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in obj.modules.items()}
    stats = obj.train_step(0)
    assert set(stats) >= {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "d_real", "d_fake"}
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    for k, m in obj.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), f"{k} did not update"


def test_two_generator_updates_per_discriminator_update():
    data = ImageData("tiny", torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8))
    cfg = GANConfig(model="mlp", width=8, latent_dim=8, batch_size=8, g_steps=2)
    obj = GANObjective(cfg, data=data)
    obj.train_step(0)
    assert obj.optimizers["G"].state_dict()["state"][0]["step"] == 2
    assert obj.optimizers["D"].state_dict()["state"][0]["step"] == 1


def test_ema_generator_tracks_generator():
    data = ImageData("tiny", torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8))
    obj = GANObjective(GANConfig(model="dcgan", width=8, latent_dim=8, batch_size=8, ema=0.5), data=data)
    g0 = [p.detach().clone() for p in obj.G.parameters()]
    obj.train_step(0)
    decay = 2 / 11   # the warm-up's min(ema, (1 + t) / (10 + t)) at the first update, below --ema 0.5
    for e, p, p0 in zip(obj.G_ema.parameters(), obj.G.parameters(), g0):
        torch.testing.assert_close(e, decay * p0 + (1 - decay) * p)


def test_dcgan_rejects_unsupported_size():
    with pytest.raises(UserError, match="dcgan"):
        models.create("dcgan", image_shape=(1, 13, 13))


def test_convgan_matches_article_at_32px():
    G, D = models.create("convgan", image_shape=(3, 32, 32), latent_dim=100, width=64)
    assert D.head.in_features == 256 * 5 * 5      # the article's nn.Linear(256 * 5 * 5, 1)
    assert G.net[0].out_features == 128 * 8 * 8    # the article's nn.Linear(latent_dim, 128 * 8 * 8)


def test_unknown_model_lists_valid_names():
    with pytest.raises(UserError, match="choose from: .*dcgan"):
        models.create("dcgn", kind="gan", image_shape=(1, 28, 28))


@pytest.mark.parametrize("name", GANS)
def test_bf16_autocast_step_is_finite(name):
    data = labelled((3, 32, 32))
    cfg = GANConfig(model=name, width=8, latent_dim=8, batch_size=8, precision="bf16")
    stats = GANObjective(cfg, data=data).train_step(0)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
