"""What a GAN family registers beside its builder, and the hooks the generic code calls.

    register("mygan", kind="gan", summary="...", family=Family(settings=MySettings,
             defaults={"loss": "hinge"}, hooks=MyHooks, tiny={"data": "synthetic:1x16x16:16"}))

settings  a dataclass of the family's own flags (fields made with config.base.opt): `train gan`
          shows them, and they are accepted and validated only when this family is chosen. A
          field the builder takes by name reaches it (cat_codes=...); the hooks read all of them.
          A ClassVar CHECKPOINT_DEFAULTS gives flags added later the value older checkpoints
          were trained with (videogan: {"motion": "glide"}).
defaults  GANConfig values the family brings (below --config, flags and --set; above the fields'
          defaults): lsgan's least-squares loss, videogan's moving-mnist clips.
hooks     a Hooks subclass (below): extra loss terms, the training view of a batch, conditions,
          evaluation extras and sample views. Generic code calls these; it never tests a name.
tiny      `ganforge.train("gan", ...)` fields of a run of a few seconds: the registry tests train
          every family with them (and fail a family without a working tiny run).
min_side  the smallest image side the family trains on (default 8): a smaller --image-size, or data
          whose own images are smaller, is refused with one line naming the flag.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from ..errors import UserError

TINY_BASE = dict(width=4, latent_dim=8, batch_size=8, steps=2, sample_every=0, ema=0.0, progress=False)


class Hooks:
    """The default behaviour of a GAN family; a family overrides what is its own.

    Created once per generator with the family's settings (a dataclass instance or None) and the
    generator net G, whose attributes (num_classes, ...) the hooks may read."""

    output = "images"   # what G makes: "images" (N, C, H, W) or "clips" (N, T, C, H, W)

    def __init__(self, settings, G):
        self.settings, self.G = settings, G

    # ---- configuration
    @classmethod
    def check(cls, cfg) -> None:
        """Cross-field checks of a whole GANConfig with this family chosen (raise UserError naming the flag)."""

    def build_args(self) -> dict:
        """Keyword arguments of the builder taken from the settings (fields the builder names)."""
        return dataclasses.asdict(self.settings) if self.settings is not None else {}

    def load_data(self, cfg):
        """The training data when the family needs other than images (videogan: clips); None: images."""
        return None

    # ---- training
    def real_view(self, x: torch.Tensor, y):
        """(what D sees of a real batch, its condition, the condition of the generated batch or None
        to draw it with sample_condition). x (N, C, H, W) in [-1, 1], y labels (N,) or None."""
        return x, y, None

    def sample_condition(self, n: int, device=None, generator=None):
        """Random conditions of n generated images (None: unconditional)."""
        return None

    def d_terms(self, step) -> dict[str, torch.Tensor]:
        """Extra terms of D's loss, weighted: name -> scalar (logged under that name). `step` holds
        step (the 0-based training step), D, D_frozen, real, y, out_real, fake, c, out_fake, autocast and
        aug_gen (tasks.gan.objective builds it in train_step)."""
        return {}

    def g_terms(self, step) -> dict[str, torch.Tensor]:
        """Extra terms of G's loss, weighted; `step` holds the same, with fake, c and out (D's output
        on fake) of G's update."""
        return {}

    def train_stats(self, step) -> dict[str, float]:
        """Extra figures of a D update to log (acgan's class accuracy on real images)."""
        return {}

    # ---- conditions (sample, serve, export and eval alike)
    def axis(self) -> tuple[int, str]:
        """(K, what) of the discrete condition a grid shows one row per value of (0: none)."""
        return 0, ""

    def conditions(self, n: int, request: dict, start: int = 0, generator=None):
        """The condition c of images start..start + n of a request ({"labels": ..., "codes": ...,
        "rows": cols (one row per axis value)}); None for an unconditional family."""
        asked = [k for k in ("labels", "codes") if request.get(k) is not None]
        if asked:
            raise UserError(f"this generator is unconditional: it takes no {asked[0]}")
        return None

    def grid(self, n: int, cols: int):
        """Conditions of the fixed snapshot grid of n images in rows of cols (None: unconditional)."""
        return None

    def code_spec(self) -> dict:
        """Named codes a user may set (infogan: {"cat": K, "c1": (-1, 1), ...}); {} when none."""
        return {}

    # ---- evaluation and views
    def eval_extras(self, gen, extractor, seed: int = 0) -> dict[str, float]:
        """Figures beyond FID/KID/IS/P-R for `ganforge eval` (infogan: code purity); extractor has logits."""
        return {}

    def views(self) -> dict:
        """Extra sample views: name -> fn(net, z (N, latent)) -> list of (N, C, h, w) image sets."""
        return {}


@dataclass
class Family:
    settings: type | None = None
    defaults: dict = field(default_factory=dict)
    hooks: type = Hooks
    tiny: dict = field(default_factory=dict)
    min_side: int = 8   # the smallest image side it trains on (GANConfig.validate refuses less, naming the flag)

    def tiny_run(self) -> dict:
        """The fields of this family's tiny training run (the registry tests use it)."""
        return {**TINY_BASE, "data": "synthetic:1x16x16:16", **self.tiny}


def publish(name: str, family: Family) -> None:
    """Tell the GAN config about a family's flags, defaults and checks (config sits below models)."""
    from ..config.gan import FAMILIES

    FAMILIES[name] = family


def settings_of(cfg):
    """The chosen family's settings of a GANConfig (None when it has no flags)."""
    return cfg.family
