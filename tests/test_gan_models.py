"""Every registered GAN family through the same tests, from what its registration declares (its
tiny run included): shapes, one step per loss, bf16, checkpoint + exact resume, serve. A family that
cannot be exercised fails here; none is skipped or named."""
import sys
import types

import numpy as np
import pytest
import torch

import ganforge
from ganforge import models
from ganforge.config import GANConfig, resolve
from ganforge.errors import UserError
from ganforge.tasks.gan import GANObjective
from ganforge.tasks.gan_generator import Generator

FAMILIES = [e.name for e in models.entries("gan")]


def tiny(name, **kw):
    return resolve(GANConfig, model=name, **{**models.get(name, "gan").family.tiny_run(), **kw})


def test_the_registry_has_the_families():
    assert len(FAMILIES) >= 10 and len(set(FAMILIES)) == len(FAMILIES)


@pytest.mark.parametrize("name", FAMILIES)
def test_shapes_and_finite(name):
    """The contract: G's samples are (N, *image_shape) in [-1, 1]; D(x, c) -> {"adv*": (N, ...)}."""
    obj = GANObjective(tiny(name))
    gen = Generator(nets={"G": obj.G}, config=obj.cfg, meta=obj.meta())
    x = gen.sample(3, seed=0)
    assert x.shape == (3, *obj.image_shape) and torch.isfinite(x).all() and x.abs().max() <= 1
    real, y = obj.real_batch(0)
    out = obj.D(real, y)
    heads = [k for k in out if k.startswith("adv")]
    assert heads and all(out[k].shape[0] == real.shape[0] and torch.isfinite(out[k]).all() for k in heads)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "lsgan", "hinge", "relativistic"])
def test_one_train_step_changes_both_nets(name, loss):
    obj = GANObjective(tiny(name, loss=loss))
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in obj.modules.items()}
    stats = obj.train_step(0)
    assert set(stats) >= {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in stats.values())
    for k, m in obj.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), f"{k} did not update"


@pytest.mark.parametrize("name", FAMILIES)
def test_r1_and_r2_penalties_reach_every_family(name):
    stats = GANObjective(tiny(name, loss="relativistic", r1=1.0, r2=1.0, r1_every=1)).train_step(0)
    assert stats["r1"] > 0 and stats["r2"] > 0 and all(np.isfinite(v) for v in stats.values())


@pytest.mark.parametrize("name", FAMILIES)
def test_bf16_autocast_step_is_finite(name):
    stats = GANObjective(tiny(name, precision="bf16")).train_step(0)
    assert all(np.isfinite(v) for v in stats.values())


@pytest.mark.parametrize("name", FAMILIES)
def test_checkpoint_resume_is_exact_and_serves(name, tmp_path):
    """Two steps straight equal one step, a checkpoint, and a resumed second step (weights, to the
    bit); the checkpoint samples the same for the same seed and serves a grid."""
    fields = {**models.get(name, "gan").family.tiny_run(), "model": name}
    straight = ganforge.train("gan", out=str(tmp_path / "a"), **fields)
    half = ganforge.train("gan", out=str(tmp_path / "b"), **{**fields, "steps": 1})
    ganforge.train("gan", resume=half, steps=2, progress=False)
    a, b = (torch.load(p / "checkpoint.pt", weights_only=True) for p in (straight, half))
    assert a["step"] == b["step"] == 2
    for key in a["modules"]["G"]:
        assert torch.equal(a["modules"]["G"][key], b["modules"]["G"][key]), key
    gen = ganforge.load(straight)
    assert torch.equal(gen.sample(2, seed=1), gen.sample(2, seed=1))
    from ganforge.use import serve_actions as S

    grid = S.gan_generate(gen, 0, 4)
    assert grid.ndim == 3 and grid.shape[2] == 3


def test_family_flags_are_checked_only_for_their_family():
    assert resolve(GANConfig, model="infogan", cat_codes=3).family.cat_codes == 3
    with pytest.raises(UserError, match="--cat-codes must be >= 2"):
        resolve(GANConfig, model="infogan", cat_codes=1)
    with pytest.raises(UserError, match="--cat-codes is a flag of infogan; --model dcgan"):
        resolve(GANConfig, model="dcgan", cat_codes=3)


def test_family_defaults():
    """What a family brings: videogan its clips (`--model videogan` alone trains), lsgan its loss."""
    assert resolve(GANConfig, model="videogan").data == "moving-mnist"
    assert resolve(GANConfig, model="lsgan").loss == "lsgan"
    assert resolve(GANConfig, model="lsgan", loss="hinge").loss == "hinge"   # a flag still wins


def test_conditions_by_request():
    obj = GANObjective(tiny("infogan"))
    gen = Generator(nets={"G": obj.G}, config=obj.cfg, meta=obj.meta())
    c = gen.conditions(5, {"codes": {"cat": 3, "c1": 0.5}})
    assert torch.equal(c[:, :4].argmax(1), torch.full((5,), 3)) and torch.all(c[:, 4] == 0.5)
    assert gen.sample(5, seed=0, codes={"cat": 3}).shape == (5, *obj.image_shape)
    with pytest.raises(UserError, match="unknown code 'c9'"):
        gen.conditions(2, {"codes": {"c9": 1}})
    acgan = GANObjective(tiny("acgan"))
    assert torch.equal(Generator(nets={"G": acgan.G}, config=acgan.cfg, meta=acgan.meta()).conditions(3, {"labels": 2}), torch.full((3,), 2))


def test_builders_name_an_unknown_argument():
    with pytest.raises(UserError, match="model dcgan takes no argument 'widht'"):
        models.create("dcgan", kind="gan", image_shape=(1, 28, 28), widht=8)


@pytest.mark.parametrize("entry", models.entries(), ids=lambda e: e.name)
def test_the_meta_count_is_the_real_count_and_leaves_torch_as_it_was(entry):
    """create() counts parameters on the meta device with weight init and spectral norm's iterations
    skipped; the count must still be exact, and the skipped functions restored afterwards."""
    from ganforge.models.registry import _meta_params

    before = (torch.Tensor.normal_, torch.nn.functional.normalize)
    real = models.create(entry.name, **entry.example)
    assert _meta_params(entry, entry.example) == models.registry.count_params(real) > 0
    assert (torch.Tensor.normal_, torch.nn.functional.normalize) == before
    assert torch.empty(1000).normal_().std() > 0.5   # real tensors are still filled


def test_a_family_in_another_package_registers_through_an_entry_point(monkeypatch):
    from ganforge.config.gan import FAMILIES as CONFIG_FAMILIES
    from ganforge.models import registry

    module = types.ModuleType("fake_plugin_gan")

    def load_plugin():
        @models.register("plugingan", kind="gan", summary="a family from another package",
                         family=models.family.Family(defaults={"loss": "hinge"}))
        def build(image_shape, latent_dim: int = 100, width: int = 64):
            return models.create("dcgan", kind="gan", image_shape=image_shape, latent_dim=latent_dim, width=width)
        return module

    class EP:
        name, value = "plugingan", "fake_plugin_gan"
        load = staticmethod(load_plugin)

    monkeypatch.setitem(sys.modules, "fake_plugin_gan", module)
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group=None: [EP()] if group == models.ENTRY_POINT_GROUP
                        else [])
    try:
        assert models.load_plugins() == ["plugingan"]
        assert resolve(GANConfig, model="plugingan").loss == "hinge"
        assert GANObjective(tiny("plugingan")).train_step(0)["d_loss"] > 0
    finally:
        registry._REGISTRY.pop("plugingan", None)
        CONFIG_FAMILIES.pop("plugingan", None)


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


@pytest.mark.parametrize("channels_last", [True, False])
def test_flatten_keeps_the_gradient_layout_and_the_maths(channels_last):
    from ganforge.nn import Flatten, flatten

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(4, 3, 5, 5).contiguous(memory_format=fmt).requires_grad_()
    w = torch.randn(75, 2)
    (g_torch,) = torch.autograd.grad((x.flatten(1) @ w).tanh().sum(), x)
    y = flatten(x)
    assert torch.equal(y, x.flatten(1)) and torch.equal(Flatten()(x), y)
    (g,) = torch.autograd.grad((y @ w).tanh().sum(), x, create_graph=True)
    torch.testing.assert_close(g, g_torch)
    assert g.is_contiguous(memory_format=fmt) and (channels_last != g.is_contiguous())
    # R1 differentiates this gradient again: the double backward goes through flatten's backward
    (gg,) = torch.autograd.grad(g.pow(2).sum(), x)
    x2 = x.detach().requires_grad_()
    (g2,) = torch.autograd.grad((x2.flatten(1) @ w).tanh().sum(), x2, create_graph=True)
    torch.testing.assert_close(gg, torch.autograd.grad(g2.pow(2).sum(), x2)[0])


def test_a_channels_last_conditional_d_sends_back_channels_last_gradients():
    obj = GANObjective(tiny("infogan"))
    seen = []

    def keep_grad(module, inputs, out):   # the gradient that reaches the map before the heads
        out.register_hook(seen.append)

    hook = obj.D.backbone.net[-2].register_forward_hook(keep_grad)
    x = torch.randn(4, *obj.image_shape).contiguous(memory_format=torch.channels_last)
    out = obj.D(x, obj.hooks.sample_condition(4))
    (out["adv"].sum() + out["code"].sum()).backward()
    hook.remove()
    assert seen and seen[0].is_contiguous(memory_format=torch.channels_last) and not seen[0].is_contiguous()
