"""Conditional GAN families on the shared contract G(z, c) -> x, D(x, c) -> {"adv", "cls"?, "code"?}.

Each wraps a backbone pair (mlp or dcgan) whose discriminator exposes forward_features(x) and
forward_head(features):

    cgan     (Mirza & Osindero 2014) the label goes to G (one-hot joined to z) and to D, either as an
             one-hot map per class joined to the image channels (--cond concat, the articles' form) or by
             projection onto D's features (--cond projection, Miyato & Koyama 2018):
             adv = head(f) + <embed(y), f>.
    acgan    (Odena et al. 2017) G gets the label; D does not, but predicts it ("cls" head) on real
             and generated images.
    infogan  (Chen et al. 2016) G gets z plus a categorical code (one-hot, --cat-codes values) and
             --cont-codes continuous codes ~ U(-1, 1); D's "code" head (Q) predicts them back.
             Optional terms in the objective (tasks.gan, --info-warp, --info-real) make the
             categorical code survive small warps and cluster real images.
    lsgan    (Mao et al. 2017) the DCGAN nets; its config default is the least-squares loss.

c is a label tensor (N,) for cgan/acgan and a float code tensor (N, cat + cont) for infogan.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import UserError
from . import dcgan, mlp_gan
from .registry import register

BACKBONES = {"mlp": mlp_gan.build, "dcgan": dcgan.build}


class ConditionalGenerator(nn.Module):
    """z (N, latent_dim), c -> (N, C, H, W): the backbone G reads z joined with one_hot(label) or the codes."""

    def __init__(self, backbone: nn.Module, latent_dim: int, num_classes: int = 0, cat_codes: int = 0,
                 cont_codes: int = 0):
        super().__init__()
        self.backbone, self.latent_dim = backbone, latent_dim
        self.num_classes, self.cat_codes, self.cont_codes = num_classes, cat_codes, cont_codes
        self.image_shape = backbone.image_shape

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if c is None:
            raise ValueError("a conditional generator needs c: labels (N,) or codes (N, cat + cont)")
        extra = F.one_hot(c, self.num_classes).to(z.dtype) if self.num_classes else c.to(z.dtype)
        return self.backbone(torch.cat([z, extra], 1))

    def sample_c(self, n: int, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Random conditions for n images: uniform labels, or uniform categorical + U(-1, 1) codes."""
        if self.num_classes:
            return torch.randint(0, self.num_classes, (n,), device=device, generator=generator)
        cat = torch.randint(0, self.cat_codes, (n,), device=device, generator=generator)
        cont = torch.rand(n, self.cont_codes, device=device, generator=generator) * 2 - 1
        return make_codes(cat, cont, self.cat_codes)


def make_codes(cat: torch.Tensor, cont: torch.Tensor, cat_codes: int) -> torch.Tensor:
    """InfoGAN's c: one_hot(cat) (N, cat_codes) joined with the continuous codes (N, cont)."""
    return torch.cat([F.one_hot(cat, cat_codes).to(cont.dtype), cont], 1)


def grid_conditions(G, n: int, cols: int) -> torch.Tensor | None:
    """Conditions for a grid of n images in rows of `cols`: row r shows class r (or categorical code
    value r, continuous codes 0); None for an unconditional G."""
    rows = torch.arange(n) // cols
    if getattr(G, "num_classes", 0):
        return rows % G.num_classes
    if getattr(G, "cat_codes", 0):
        return make_codes(rows % G.cat_codes, torch.zeros(n, G.cont_codes), G.cat_codes)
    return None


class ConditionalDiscriminator(nn.Module):
    """(N, C, H, W), c -> {"adv": (N,), "cls": (N, K) for acgan, "code": (N, cat + 2 cont) for infogan}.

    "code" holds the categorical logits, then the mean and log-std of each continuous code."""

    def __init__(self, backbone: nn.Module, image_shape, num_classes: int = 0, cond: str = "none",
                 aux_classes: bool = False, cat_codes: int = 0, cont_codes: int = 0):
        super().__init__()
        self.backbone, self.cond, self.image_shape = backbone, cond, tuple(image_shape)
        c, h, w = image_shape
        self.num_classes = num_classes
        with torch.no_grad():   # feature size (works on the meta device too)
            was = backbone.training
            backbone.eval()
            probe = torch.zeros(2, c + (num_classes if cond == "concat" else 0), h, w)
            feat = backbone.forward_features(probe).flatten(1).shape[1]
            backbone.train(was)
        if cond == "projection":
            self.embed = nn.Embedding(num_classes, feat)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if aux_classes:
            self.cls = nn.Linear(feat, num_classes)
        if cat_codes or cont_codes:
            self.q = nn.Sequential(nn.Linear(feat, 128), nn.LeakyReLU(0.2), nn.Linear(128, cat_codes + 2 * cont_codes))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.cond != "none" and c is None:
            raise ValueError(f"a {self.cond}-conditioned discriminator needs the labels c")
        if self.cond == "concat":   # one constant map per class: 1 for the image's label, 0 elsewhere
            n, _, h, w = x.shape
            maps = F.one_hot(c, self.num_classes).to(x.dtype)[:, :, None, None].expand(n, self.num_classes, h, w)
            x = torch.cat([x, maps], 1)
        f = self.backbone.forward_features(x)
        out = {"adv": self.backbone.forward_head(f)}
        flat = f.flatten(1)
        if self.cond == "projection":
            out["adv"] = out["adv"] + (self.embed(c).to(flat.dtype) * flat).sum(1)
        if hasattr(self, "cls"):
            out["cls"] = self.cls(flat)
        if hasattr(self, "q"):
            out["code"] = self.q(flat)
        return out


def _backbones(backbone: str, image_shape, latent_in: int, width: int, d_channels: int = 0):
    if backbone not in BACKBONES:
        raise UserError(f"--backbone must be one of {', '.join(BACKBONES)}, got {backbone!r}")
    G, D = BACKBONES[backbone](image_shape, latent_in, width)
    if d_channels:
        c, h, w = image_shape
        _, D = BACKBONES[backbone]((c + d_channels, h, w), latent_in, width)
    return G, D


def _need_labels(name: str, num_classes: int) -> None:
    if num_classes < 2:
        raise UserError(f"{name} needs a labelled dataset (mnist5k, mnist, fashion-mnist, cifar10, or folder:PATH with "
                        "one sub-folder per class)")


@register("cgan", kind="gan", summary="conditional GAN: label to G and D (--cond concat | projection), "
          "mlp or dcgan backbone", example=dict(image_shape=(1, 28, 28), num_classes=10))
def build_cgan(image_shape, latent_dim: int = 100, width: int = 64, num_classes: int = 0, backbone: str = "dcgan",
               cond: str = "concat", **_):
    _need_labels("cgan", num_classes)
    if cond not in ("concat", "projection"):
        raise UserError(f"--cond must be concat or projection, got {cond!r}")
    G, D = _backbones(backbone, image_shape, latent_dim + num_classes, width,
                      d_channels=num_classes if cond == "concat" else 0)
    return (ConditionalGenerator(G, latent_dim, num_classes),
            ConditionalDiscriminator(D, image_shape, num_classes, cond=cond))


@register("acgan", kind="gan", summary="auxiliary-classifier GAN: label to G, D predicts real/fake and the class",
          example=dict(image_shape=(1, 28, 28), num_classes=10))
def build_acgan(image_shape, latent_dim: int = 100, width: int = 64, num_classes: int = 0, backbone: str = "dcgan",
                **_):
    _need_labels("acgan", num_classes)
    G, D = _backbones(backbone, image_shape, latent_dim + num_classes, width)
    return (ConditionalGenerator(G, latent_dim, num_classes),
            ConditionalDiscriminator(D, image_shape, num_classes, aux_classes=True))


@register("infogan", kind="gan", summary="InfoGAN: categorical + continuous codes to G, a Q head on D recovers them",
          example=dict(image_shape=(1, 28, 28)))
def build_infogan(image_shape, latent_dim: int = 100, width: int = 64, backbone: str = "dcgan", cat_codes: int = 10,
                  cont_codes: int = 2, **_):
    if cat_codes < 2:
        raise UserError(f"--cat-codes must be at least 2, got {cat_codes}")
    G, D = _backbones(backbone, image_shape, latent_dim + cat_codes + cont_codes, width)
    return (ConditionalGenerator(G, latent_dim, cat_codes=cat_codes, cont_codes=cont_codes),
            ConditionalDiscriminator(D, image_shape, cat_codes=cat_codes, cont_codes=cont_codes))


@register("lsgan", kind="gan", summary="LSGAN: the DCGAN nets trained with the least-squares loss (--loss lsgan)",
          example=dict(image_shape=(1, 28, 28)))
def build_lsgan(image_shape, latent_dim: int = 100, width: int = 64, **_):
    return dcgan.build(image_shape, latent_dim, width)
