import math

import pytest
import torch

from ganforge.nn import losses
from ganforge.errors import UserError

R = torch.tensor([2.0, -1.0])     # real logits
F_ = torch.tensor([0.5, -3.0])    # fake logits


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_minimax_and_nonsaturating_d_loss_is_half_bce():
    expected = 0.5 * (-(math.log(sig(2.0)) + math.log(sig(-1.0))) / 2
                      - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2)
    for kind in ("minimax", "nonsaturating"):
        assert losses.d_loss(kind, R, F_).item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses():
    assert losses.g_loss("minimax", F_).item() == pytest.approx(
        (math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2, rel=1e-6)
    assert losses.g_loss("nonsaturating", F_).item() == pytest.approx(
        -(math.log(sig(0.5)) + math.log(sig(-3.0))) / 2, rel=1e-6)
    assert losses.g_loss("lsgan", F_).item() == pytest.approx(((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2)
    assert losses.g_loss("hinge", F_).item() == pytest.approx(-(0.5 - 3.0) / 2)


def test_lsgan_and_hinge_d_loss():
    assert losses.d_loss("lsgan", R, F_).item() == pytest.approx(
        0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + (0.5 ** 2 + 9) / 2))
    assert losses.d_loss("hinge", R, F_).item() == pytest.approx(
        0.5 * ((0 + 2) / 2 + (1.5 + 0) / 2))


def test_stable_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for kind in losses.LOSSES:
        assert torch.isfinite(losses.d_loss(kind, big, -big))
        assert torch.isfinite(losses.g_loss(kind, big, -big if losses.paired(kind) else None))
    assert losses.d_loss("nonsaturating", big[:1], -big[:1]).item() == 0.0


def test_saturating_generator_has_vanishing_gradient_where_nonsaturating_does_not():
    f = torch.tensor([-8.0], requires_grad=True)   # D is confident the fake is fake
    losses.g_loss("minimax", f).backward()
    g_sat = f.grad.abs().item()
    f.grad = None
    losses.g_loss("nonsaturating", f).backward()
    assert g_sat < 1e-3 < f.grad.abs().item()


def test_unknown_loss():
    with pytest.raises(UserError, match="choose from"):
        losses.d_loss("wgan", R, F_)


def test_relativistic_pairs_each_real_with_its_fake():
    sp = lambda x: math.log1p(math.exp(x))
    assert losses.d_loss("relativistic", R, F_).item() == pytest.approx((sp(0.5 - 2.0) + sp(-3.0 + 1.0)) / 2, rel=1e-6)
    assert losses.g_loss("relativistic", F_, R).item() == pytest.approx((sp(2.0 - 0.5) + sp(-1.0 + 3.0)) / 2, rel=1e-6)
    # only differences count: shifting every logit changes nothing
    assert losses.d_loss("relativistic", R + 7, F_ + 7).item() == pytest.approx(losses.d_loss("relativistic", R, F_).item())
    # G's gradient flows through its own logits only
    r, f = R.clone().requires_grad_(True), F_.clone().requires_grad_(True)
    losses.g_loss("relativistic", f, r).backward()
    assert r.grad is None and (f.grad < 0).all()
    assert losses.paired("relativistic") and not any(losses.paired(k) for k in losses.LOSSES if k != "relativistic")
    with pytest.raises(ValueError, match="real"):
        losses.g_loss("relativistic", F_)
    with pytest.raises(ValueError, match="one to one"):
        losses.d_loss("relativistic", R, F_[:1])


def test_the_config_offers_exactly_the_losses_the_step_knows():
    from ganforge.config import GAN_LOSSES   # config sits below nn and keeps its own copy of the names

    assert GAN_LOSSES == losses.LOSSES
