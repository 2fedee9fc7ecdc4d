"""The GAN task: one objective for every unconditional generator/discriminator pair."""
from __future__ import annotations

import copy

import torch

from .. import losses, models
from ..data import BatchSampler, load_images, to_float
from ..errors import UserError
from ..nn import eval_mode
from ..engine import checkpoint
from ..engine.loop import Objective, RunDir, adam

SAMPLE_GRID = 64     # fixed-noise images in each snapshot


class GANObjective(Objective):
    """Alternates d_steps discriminator updates and g_steps generator updates per step.

    The fake batch of the last D update is reused for the first G update: G has not changed
    in between, so this equals regenerating it and saves one generator forward.
    """

    task = "gan"
    best = ("fid", "min")   # kept as best.pt when --eval-every is on: GAN runs often get worse late

    def __init__(self, cfg, rt=None, data=None):
        super().__init__(cfg, rt)
        rt = self.rt
        models.get(cfg.model, "gan")   # fail on a bad name before loading data
        self.data = data if data is not None else load_images(cfg.data, "train", cfg.channels, cfg.image_size,
                                                              strict=cfg.strict, progress=rt.is_main)
        self.sampler = BatchSampler(len(self.data), self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.images = rt.place(self.data.images)
        self.image_shape = self.data.shape
        G, D = build_nets(cfg, self.image_shape)
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.G = rt.prepare(G).to(memory_format=self.memory_format)
        self.D = rt.prepare(D).to(memory_format=self.memory_format)
        self.modules = {"G": self.G, "D": self.D}
        # Training views (DDP / compiled). G's update runs D unwrapped and frozen: no D gradient is
        # computed or reduced, and D's DDP never waits for a gradient that will not come.
        self.train_G, self.train_D = rt.wrap(self.G), rt.wrap(self.D)
        betas = (cfg.beta1, cfg.beta2)
        self.optimizers = {"G": adam(G.parameters(), cfg.lr, betas),
                           "D": adam(D.parameters(), cfg.lr, betas)}
        if cfg.ema:
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
            self.modules["G_ema"] = self.G_ema
        self.fixed_z = torch.randn(SAMPLE_GRID, cfg.latent_dim,
                                   generator=torch.Generator().manual_seed(cfg.seed)).to(rt.device)
        if cfg.eval_every:   # fail now, not at the first evaluation, if no extractor fits this data
            from ..metrics.extractors import get_extractor

            self._extractor = get_extractor(cfg.eval_extractor, self.image_shape, self.data.name)

    def real_batch(self, index: int) -> torch.Tensor:
        x = to_float(self.rt.to(self.images[self.sampler.indices(index).to(self.images.device)]))
        return x.contiguous(memory_format=self.memory_format)

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.latent_dim, device=self.rt.device)

    def train_step(self, step: int) -> dict[str, float]:
        cfg, rt, G, D, kind = self.cfg, self.rt, self.train_G, self.train_D, self.cfg.loss
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        thr = losses.decision_threshold(kind)
        for j in range(cfg.d_steps):
            real = self.real_batch(step * cfg.d_steps + j)
            last = j == cfg.d_steps - 1
            with self.autocast():
                with torch.set_grad_enabled(last):   # only the last fake batch feeds G's first update
                    fake = G(self.noise(real.shape[0]))
                real_logits = D(real).float()
                fake_logits = D(fake.detach()).float()
            d_loss = losses.d_loss(kind, real_logits, fake_logits)
            rt.update(opt_d, d_loss)
        self.D.requires_grad_(False)
        for j in range(cfg.g_steps):
            if j > 0:
                with self.autocast():
                    fake = G(self.noise(real.shape[0]))
            with self.autocast():
                g_logits = self.D(fake).float()
            g_loss = losses.g_loss(kind, g_logits)
            rt.update(opt_g, g_loss)
            if cfg.ema:
                self._update_ema()
        self.D.requires_grad_(True)
        return {
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_acc_real": (real_logits > thr).float().mean().item(),
            "d_acc_fake": (fake_logits < thr).float().mean().item(),
            "d_real": losses.d_score(kind, real_logits).mean().item(),
            "d_fake": losses.d_score(kind, fake_logits).mean().item(),
        }

    @torch.no_grad()
    def _update_ema(self) -> None:
        for e, p in zip(self.G_ema.parameters(), self.G.parameters()):
            e.lerp_(p, 1.0 - self.cfg.ema)
        for e, b in zip(self.G_ema.buffers(), self.G.buffers()):
            e.copy_(b)

    @property
    def sampler_net(self) -> torch.nn.Module:
        return self.G_ema if self.cfg.ema else self.G

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        from ..viz import save_grid

        with eval_mode(self.sampler_net) as G:
            images = G(self.fixed_z)
        (run.path / "samples").mkdir(exist_ok=True)
        save_grid(images, run.path / "samples" / f"step_{step:06d}.png")
        save_grid(images, run.path / "samples.png")

    def evaluate(self, step: int) -> dict[str, float]:
        """FID and KID of --eval-num samples against the training data (the cheap subset of `ganforge eval`)."""
        from ..metrics.extractors import get_extractor
        from ..metrics.generative import NetGenerator, evaluate_generator

        if not hasattr(self, "_extractor"):   # built once: loading it and the real features is the slow part
            self._extractor = get_extractor(self.cfg.eval_extractor, self.image_shape, self.data.name)
        gen = NetGenerator(self.sampler_net, self.cfg.latent_dim, self.image_shape, self.data.name, self.rt.device)
        m = evaluate_generator(gen, self.cfg.eval_num, self._extractor, seed=self.cfg.seed, kid_subsets=20,
                               full=False)
        return {"fid": m["fid"], "kid": m["kid"]}

    def finish(self, run: RunDir) -> dict:
        from ..viz import plot_gan_curves

        stats = [s for s in run.read_stats() if "d_loss" in s]   # --eval-every adds lines with only fid/kid
        if stats:
            plot_gan_curves(stats, run.path / "losses.png")
        last = stats[-min(len(stats), 100):]
        return {k: sum(s[k] for s in last) / len(last) for k in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")
                if last and k in last[0]}

    def meta(self) -> dict:
        return {"image_shape": list(self.image_shape), "dataset": self.data.name, "classes": self.data.classes}


def build_nets(cfg, image_shape) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(G, D) as the config and the data's image shape describe them: training and loading share this."""
    return models.create(cfg.model, kind="gan", image_shape=tuple(image_shape), latent_dim=cfg.latent_dim,
                         width=cfg.width)


def build(cfg, rt=None) -> GANObjective:
    return GANObjective(cfg, rt)


class Generator:
    """A trained generator rebuilt from its checkpoint: .sample(n) -> (n, C, H, W) in [-1, 1]."""

    def __init__(self, ckpt: dict):
        from ..config import GANConfig, from_dict

        self.config = from_dict(GANConfig, ckpt["config"], f"checkpoint {ckpt['path']}")
        self.meta, self.step, self.path = ckpt["meta"], ckpt["step"], ckpt["path"]
        self.image_shape = tuple(self.meta["image_shape"])
        G, _ = build_nets(self.config, self.image_shape)
        name = "G_ema" if "G_ema" in ckpt["modules"] else "G"
        self.net = checkpoint.load_module(G, ckpt, name).eval()

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, batch_size: int = 256) -> torch.Tensor:
        if n <= 0:
            raise UserError(f"-n must be positive, got {n}")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.latent_dim, generator=g)
        return torch.cat([self.net(chunk) for chunk in z.split(batch_size)])


def load(ckpt: dict) -> Generator:
    return Generator(ckpt)


def evaluate(ckpt: dict, num: int = 10_000, extractor: str = "auto", data: str | None = None, seed: int = 0) -> dict:
    """`ganforge eval` of a GAN checkpoint: FID, KID, IS, precision/recall (metrics.generative)."""
    from ..metrics.generative import evaluate_generator

    return evaluate_generator(Generator(ckpt), num, extractor, data, seed)
