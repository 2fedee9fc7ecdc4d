"""Adversarial losses on raw discriminator outputs (logits), numerically stable.

With r = D(x) and f = D(G(z)) as logits and sigma the sigmoid, each D loss is
J_D = 1/2 (E[real term] + E[fake term]), the articles' 1/2-weighted form:

    name            real term            fake term           J_G
    minimax         -log sigma(r)         -log(1 - sigma(f))   E log(1 - sigma(f))   (= -J_D's fake part; saturates)
    nonsaturating   -log sigma(r)         -log(1 - sigma(f))   -E log sigma(f)
    lsgan           (r - 1)^2             f^2                  E (f - 1)^2
    hinge           max(0, 1 - r)         max(0, 1 + f)        -E f

and one loss on pairs, which has no 1/2 (Jolicoeur-Martineau 2019; the 2024 "modern GAN
baseline", R3GAN, pairs it with R1 + R2):

    relativistic    J_D = E softplus(f - r)                    J_G = E softplus(r - f)

r and f there are the i-th real and i-th generated logit of one batch, so G's loss needs D's
logits of real images too (`paired(kind)`), and a logit alone says nothing (only r - f does).
log sigma(x) = -softplus(-x) and log(1 - sigma(x)) = -softplus(x) keep everything finite.
The LSGAN generator term has no 1/2, as in the CycleGAN reference (whose cycle weight lambda = 10
is tuned against it); for a lone GAN a constant factor on J_G is immaterial under Adam. Logits
may have any shape (PatchGAN maps too): every term is a mean.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import did_you_mean

LOSSES = ("nonsaturating", "minimax", "lsgan", "hinge", "relativistic")


def _check(kind: str) -> None:
    if kind not in LOSSES:
        raise did_you_mean("loss", kind, LOSSES)


def paired(kind: str) -> bool:
    """Whether the loss compares real and generated logits pair by pair (G's loss needs D(real))."""
    _check(kind)
    return kind == "relativistic"


def _pairs(real: torch.Tensor, fake: torch.Tensor) -> None:
    if real.shape != fake.shape:
        raise ValueError(f"the relativistic loss pairs real and generated logits one to one; got shapes "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss from logits of real (N,) and generated (M,) images (M = N, pair by pair,
    for the relativistic loss)."""
    _check(kind)
    if kind == "relativistic":
        _pairs(real, fake)
        return F.softplus(fake - real).mean()
    if kind in ("minimax", "nonsaturating"):
        real_term, fake_term = F.softplus(-real), F.softplus(fake)
    elif kind == "lsgan":
        real_term, fake_term = (real - 1) ** 2, fake ** 2
    else:
        real_term, fake_term = F.relu(1 - real), F.relu(1 + fake)
    return 0.5 * (real_term.mean() + fake_term.mean())


def g_loss(kind: str, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """Generator loss from logits (N,) of generated images; the relativistic loss also takes the
    logits of N real images (constants for G)."""
    _check(kind)
    if kind == "relativistic":
        if real is None:
            raise ValueError("the relativistic generator loss needs D's logits of real images (real=...)")
        _pairs(real, fake)
        return F.softplus(real.detach() - fake).mean()
    if kind == "minimax":
        return -F.softplus(fake).mean()
    if kind == "nonsaturating":
        return F.softplus(-fake).mean()
    if kind == "lsgan":
        return ((fake - 1) ** 2).mean()
    return -fake.mean()


def decision_threshold(kind: str) -> float:
    """D output above which an image counts as 'real' (LSGAN's targets are 0 and 1)."""
    return 0.5 if kind == "lsgan" else 0.0


def d_score(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """What users read as D(x): a probability for the BCE losses, the raw output otherwise."""
    return torch.sigmoid(logits) if kind in ("minimax", "nonsaturating") else logits


def cls_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ACGAN's auxiliary classification loss: cross-entropy of the "cls" head (N, K) against labels (N,)."""
    return F.cross_entropy(logits.float(), labels)


def code_loss(out: torch.Tensor, codes: torch.Tensor, cat_codes: int, cont_weight: float = 1.0) -> torch.Tensor:
    """InfoGAN's mutual-information term (the negative of its lower bound, up to a constant): the
    cross-entropy of the categorical code plus cont_weight times the Gaussian negative log-likelihood
    of each continuous code under Q's mean and log-std. out (N, cat + 2 cont) from the "code" head;
    codes (N, cat + cont) as G received them (one-hot, then continuous)."""
    out, codes = out.float(), codes.float()
    loss = F.cross_entropy(out[:, :cat_codes], codes[:, :cat_codes].argmax(1))
    cont = codes[:, cat_codes:]
    if cont.shape[1]:
        n = cont.shape[1]
        mean, log_std = out[:, cat_codes:cat_codes + n], out[:, cat_codes + n:].clamp(-5, 2)
        nll = log_std + 0.5 * ((cont - mean) / log_std.exp()) ** 2 + 0.5 * math.log(2 * math.pi)
        loss = loss + cont_weight * nll.sum(1).mean()
    return loss


def cluster_info(logits: torch.Tensor) -> torch.Tensor:
    """Information maximisation on unlabelled images (as in CatGAN and IMSAT): the mean entropy of
    each image's class distribution softmax(logits) minus the entropy of their batch mean, so
    minimising it makes each prediction confident and the batch use every class. logits (N, K)."""
    logp = logits.float().log_softmax(1)
    p = logp.exp()
    mean = p.mean(0)
    return -(p * logp).sum(1).mean() + (mean * mean.clamp_min(1e-12).log()).sum()


def consistency(logits: torch.Tensor, logits_changed: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the class predicted for a changed image against the (fixed) prediction for
    the original: the head learns to ignore the change. Both (N, K) logits."""
    target = logits.detach().float().softmax(1)
    return -(target * logits_changed.float().log_softmax(1)).sum(1).mean()


def r1_penalty(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E |grad_x D(x)|^2 over real images x, which must require grad;
    differentiable (create_graph) so D's update can minimise it. Over generated images (detached
    from G, then requiring grad) the same sum is R2."""
    (grad,) = torch.autograd.grad(logits.sum(), images, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()


def adv_heads(out: dict) -> list[torch.Tensor]:
    """The adversarial heads of D's output: "adv" and every "adv*" head (a LAPGAN level, a video
    GAN's spatial and temporal discriminators), in name order, as float logits of any shape."""
    return [out[k].float() for k in sorted(out) if k.startswith("adv")]


def adv_logits(out: dict) -> torch.Tensor:
    """Every adversarial logit of D's output, flattened into one (M,) tensor (for statistics and R1)."""
    return torch.cat([h.flatten() for h in adv_heads(out)])


def d_loss_heads(kind: str, out_real: dict, out_fake: dict) -> torch.Tensor:
    """d_loss summed over the adversarial heads (one GAN objective, several discriminators)."""
    return sum(d_loss(kind, r, f) for r, f in zip(adv_heads(out_real), adv_heads(out_fake)))


def g_loss_heads(kind: str, out: dict, out_real: dict | None = None) -> torch.Tensor:
    """g_loss summed over the adversarial heads; out_real (D's output for real images) is needed
    by a paired loss only."""
    if out_real is None:
        return sum(g_loss(kind, f) for f in adv_heads(out))
    return sum(g_loss(kind, f, r) for f, r in zip(adv_heads(out), adv_heads(out_real)))
