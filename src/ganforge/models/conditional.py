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
Each family registers its flags (settings), its loss terms and how it builds conditions (hooks).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config.base import opt
from ..errors import UserError
from ..nn import flatten, losses
from ..nn.augment import random_warp
from . import dcgan, mlp_gan
from .family import Family, Hooks
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
        flat = flatten(f)   # the gradient keeps f's layout
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


# ------------------------------------------------------------------------- settings (the families' flags)

@dataclass
class BackboneSettings:
    backbone: str = opt("dcgan", "the nets under the conditional family", ("mlp", "dcgan"))


@dataclass
class CGANSettings(BackboneSettings):
    cond: str = opt("concat", "how D reads the label: concat (an extra input channel per class) or projection "
                    "(Miyato & Koyama 2018)", ("concat", "projection"))


@dataclass
class ACGANSettings(BackboneSettings):
    aux_weight: float = opt(1.0, "weight of the class loss, in both nets", ge=0)


@dataclass
class InfoGANSettings(BackboneSettings):
    aux_weight: float = opt(1.0, "weight of the code loss, in both nets", ge=0)
    cat_codes: int = opt(10, "values of the categorical code", ge=2)
    cont_codes: int = opt(2, "continuous codes, each ~ U(-1, 1)", ge=0)
    cont_weight: float = opt(1.0, "weight of the continuous codes' likelihood within the code loss (the paper keeps "
                             "it small next to the categorical term)", ge=0)
    info_warp: float = opt(0.0, "weight of Q recovering the categorical code from warped generated images (in both "
                           "nets) and giving warped real images the class it gives the originals, so the code cannot "
                           "stand for a slant or a shift (0: off)", ge=0)
    info_real: float = opt(0.0, "weight of Q's categorical guess on real images being confident per image and "
                           "balanced over the batch (0: off)", ge=0)
    warp_every: int = opt(1, "--info-warp: add the warp terms every N-th step only, weighted N times (N warped "
                          "batches cost what one costs; 1: every step)", gt=0)
    warp_share: float = opt(1.0, "--info-warp: the share of each batch the warp terms see (0.25 with --warp-every 1 "
                            "costs about what the whole batch every 4th step does)", gt=0, le=1)
    warp_degrees: float = opt(20.0, "--info-warp: rotate by up to this many degrees either way (and zoom by 0.9-1.1, "
                              "shift by up to 7.5 percent of the side)", ge=0, le=180)


# ------------------------------------------------------------------------- hooks

class LabelHooks(Hooks):
    """Families conditioned on class labels (cgan, acgan): c is a label tensor (N,)."""

    def sample_condition(self, n, device=None, generator=None):
        return self.G.sample_c(n, device, generator)

    def axis(self):
        return self.G.num_classes, "class"

    def grid(self, n, cols):
        return grid_conditions(self.G, n, cols)

    def conditions(self, n, request, start=0, generator=None):
        k = self.G.num_classes
        labels = request.get("labels")
        if request.get("codes") is not None:
            raise UserError("this generator is conditioned on class labels: it takes labels, not codes")
        if labels is None:
            if request.get("rows"):   # one row per class: rows of `rows` images
                return (torch.arange(start, start + n) // request["rows"]) % k
            return torch.arange(start, start + n) % k
        labels = torch.as_tensor(labels).long()
        if labels.numel() and (labels.min() < 0 or labels.max() >= k):
            raise UserError(f"labels must be in 0..{k - 1}")
        return labels.expand(n) if labels.ndim == 0 else labels[start:start + n]


class ACGANHooks(LabelHooks):
    """ACGAN's class loss on D's "cls" head: real images against their labels, generated ones
    against the labels they were drawn for (both nets)."""

    def d_terms(self, step):
        aux = losses.cls_loss(step.out_real["cls"], step.y) + losses.cls_loss(step.out_fake["cls"], step.c)
        return {"d_aux": self.settings.aux_weight * aux}

    def g_terms(self, step):
        return {"g_aux": self.settings.aux_weight * losses.cls_loss(step.out["cls"], step.c)}

    def train_stats(self, step):
        return {"d_cls_acc_real": (step.out_real["cls"].argmax(1) == step.y).float().mean().item()}


class InfoHooks(Hooks):
    """InfoGAN: c = one_hot(categorical code) joined with the continuous codes; Q (D's "code" head)
    recovers them from generated images. Optional terms make the categorical code ignore warps
    (--info-warp) and cluster real images (--info-real)."""

    def sample_condition(self, n, device=None, generator=None):
        return self.G.sample_c(n, device, generator)

    def axis(self):
        return self.G.cat_codes, "categorical code"

    def grid(self, n, cols):
        return grid_conditions(self.G, n, cols)

    def code_spec(self):
        return {"cat": self.G.cat_codes, **{f"c{i + 1}": (-1.0, 1.0) for i in range(self.G.cont_codes)}}

    def conditions(self, n, request, start=0, generator=None):
        G, codes = self.G, request.get("codes")
        if request.get("labels") is not None:
            raise UserError("this generator takes codes (cat, c1, ...), not class labels")
        if torch.is_tensor(codes) or isinstance(codes, (list, tuple)):   # the raw (N, cat + cont) tensor
            return torch.as_tensor(codes, dtype=torch.float32)[start:start + n]
        codes = dict(codes or {})
        unknown = set(codes) - set(self.code_spec())
        if unknown:
            raise UserError(f"unknown code {sorted(unknown)[0]!r}; this generator's codes: {', '.join(self.code_spec())}")
        if not codes and not request.get("rows"):
            return G.sample_c(n, generator=generator)
        if codes.get("cat") is not None:
            value = int(codes["cat"])
            if not 0 <= value < G.cat_codes:
                raise UserError(f"the categorical code must be in 0..{G.cat_codes - 1}, got {value}")
            cat = torch.full((n,), value)
        elif request.get("rows"):   # one row per code value
            cat = (torch.arange(start, start + n) // request["rows"]) % G.cat_codes
        else:
            cat = torch.randint(0, G.cat_codes, (n,), generator=generator)
        given = [codes.get(f"c{i + 1}") for i in range(G.cont_codes)]
        # draw only what is not given: a fully specified request leaves the random stream alone
        cont = (torch.rand(n, G.cont_codes, generator=generator) * 2 - 1 if None in given
                else torch.zeros(n, G.cont_codes))
        for i, v in enumerate(given):
            if v is not None:
                cont[:, i] = float(v)
        return make_codes(cat, cont, G.cat_codes)

    def d_terms(self, step):
        s, k = self.settings, self.G.cat_codes
        terms = {"d_aux": s.aux_weight * losses.code_loss(step.out_fake["code"], step.c, k, s.cont_weight)}
        if s.info_warp or s.info_real:   # Q's guess on real images: confident, balanced, the same when warped
            guess = step.out_real["code"][:, :k]
            info = s.info_real * losses.cluster_info(guess) if s.info_real else 0.0
            if self._warp_now(step):
                m = self._warp_count(step)
                with step.autocast():
                    warped = step.D(random_warp(step.real[:m].detach(), s.warp_degrees, step.aug_gen))["code"][:, :k]
                info = info + s.info_warp * s.warp_every * (losses.consistency(guess[:m], warped) +
                                                            self._warped_code_loss(step, step.D, step.fake.detach()))
            terms["d_info"] = info
        return terms

    def g_terms(self, step):
        s = self.settings
        terms = {"g_aux": s.aux_weight * losses.code_loss(step.out["code"], step.c, self.G.cat_codes, s.cont_weight)}
        if self._warp_now(step):
            terms["g_warp"] = s.info_warp * s.warp_every * self._warped_code_loss(step, step.D_frozen, step.fake)
        return terms

    def _warp_now(self, step) -> bool:
        """Whether this step adds the --info-warp terms (every --warp-every-th step, lazily like R1)."""
        s = self.settings
        return bool(s.info_warp) and step.step % s.warp_every == 0

    def _warp_count(self, step) -> int:
        """How many images of the batch (the first ones) the warp terms see: --warp-share of them."""
        return max(1, round(self.settings.warp_share * step.real.shape[0]))

    def _warped_code_loss(self, step, D, fake):
        """Cross-entropy of Q's categorical guess for warped generated images against their code."""
        k, m = self.G.cat_codes, self._warp_count(step)
        c = step.c[:m]
        with step.autocast():
            out = D(random_warp(fake[:m], self.settings.warp_degrees, step.aug_gen), c)
        return losses.cls_loss(out["code"][:, :k], c[:, :k].argmax(1))

    def eval_extras(self, gen, extractor, seed=0):
        return code_purity(gen, extractor, seed=seed) if getattr(extractor, "classes", None) is not None else {}


def code_purity(generator, ext, per_code: int = 100, seed: int = 0) -> dict[str, float]:
    """For each categorical code value, the share of its samples (random noise and continuous codes)
    in their most common class as the classifier `ext` labels them, averaged over values
    ("code_purity"), and how many different classes the values' majorities cover ("code_classes")."""
    G = generator.net
    k, n = G.cat_codes, per_code * G.cat_codes
    g = torch.Generator().manual_seed(seed + 1)
    cat = torch.arange(n) // per_code
    codes = make_codes(cat, torch.rand(n, G.cont_codes, generator=g) * 2 - 1, k)
    images = generator.sample(n, seed=seed, codes=codes)
    pred = torch.cat([ext.logits(x) for x in images.split(500)]).argmax(1)
    majority, shares = [], []
    for v in range(k):
        counts = torch.bincount(pred[cat == v], minlength=len(ext.classes))
        majority.append(int(counts.argmax()))
        shares.append(counts.max().item() / per_code)
    return {"code_purity": sum(shares) / k, "code_classes": len(set(majority))}


LABELLED = dict(data="mnist5k", image_size=16, channels=1)   # the tiny runs need labels


@register("cgan", kind="gan", summary="conditional GAN: label to G and D (--cond concat | projection), "
          "mlp or dcgan backbone", example=dict(image_shape=(1, 28, 28), num_classes=10),
          family=Family(settings=CGANSettings, hooks=LabelHooks, tiny=LABELLED))
def build_cgan(image_shape, latent_dim: int = 100, width: int = 64, num_classes: int = 0, backbone: str = "dcgan",
               cond: str = "concat"):
    _need_labels("cgan", num_classes)
    if cond not in ("concat", "projection"):
        raise UserError(f"--cond must be concat or projection, got {cond!r}")
    G, D = _backbones(backbone, image_shape, latent_dim + num_classes, width,
                      d_channels=num_classes if cond == "concat" else 0)
    return (ConditionalGenerator(G, latent_dim, num_classes),
            ConditionalDiscriminator(D, image_shape, num_classes, cond=cond))


@register("acgan", kind="gan", summary="auxiliary-classifier GAN: label to G, D predicts real/fake and the class",
          example=dict(image_shape=(1, 28, 28), num_classes=10),
          family=Family(settings=ACGANSettings, hooks=ACGANHooks, tiny=LABELLED))
def build_acgan(image_shape, latent_dim: int = 100, width: int = 64, num_classes: int = 0, backbone: str = "dcgan"):
    _need_labels("acgan", num_classes)
    G, D = _backbones(backbone, image_shape, latent_dim + num_classes, width)
    return (ConditionalGenerator(G, latent_dim, num_classes),
            ConditionalDiscriminator(D, image_shape, num_classes, aux_classes=True))


@register("infogan", kind="gan", summary="InfoGAN: categorical + continuous codes to G, a Q head on D recovers them",
          example=dict(image_shape=(1, 28, 28)),
          family=Family(settings=InfoGANSettings, hooks=InfoHooks, tiny=dict(LABELLED, cat_codes=4)))
def build_infogan(image_shape, latent_dim: int = 100, width: int = 64, backbone: str = "dcgan", cat_codes: int = 10,
                  cont_codes: int = 2):
    if cat_codes < 2:
        raise UserError(f"--cat-codes must be at least 2, got {cat_codes}")
    G, D = _backbones(backbone, image_shape, latent_dim + cat_codes + cont_codes, width)
    return (ConditionalGenerator(G, latent_dim, cat_codes=cat_codes, cont_codes=cont_codes),
            ConditionalDiscriminator(D, image_shape, cat_codes=cat_codes, cont_codes=cont_codes))


@register("lsgan", kind="gan", summary="LSGAN: the DCGAN nets trained with the least-squares loss (--loss lsgan)",
          example=dict(image_shape=(1, 28, 28)), family=Family(defaults={"loss": "lsgan"}))
def build_lsgan(image_shape, latent_dim: int = 100, width: int = 64):
    return dcgan.build(image_shape, latent_dim, width)
