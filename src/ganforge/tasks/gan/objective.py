"""The GAN task: one objective for every generator/discriminator family on the contract
G(z, c) -> x and D(x, c) -> {"adv": logits, "cls"?: class logits, "code"?: Q's code estimate}.

c is whatever the family conditions on (None, labels, codes, the real image). D's loss is the
adversarial loss summed over its "adv*" heads plus the extra terms the family's hooks return
(models/family.py: acgan's class loss, infogan's code terms); G's loss likewise. The family's
hooks also give the training view of a batch (LAPGAN: the packed real pyramid) and its data
(clips). Nothing here knows a family by name.
"""
from __future__ import annotations

import sys
from types import SimpleNamespace

import torch

from ... import models
from ...data import BatchSampler, Batches, announce, load_images, to_float
from ...nn.augment import AdaptiveP, augment
from ...nn import eval_mode, losses
from ...nn.ema import EMA
from ...engine.loop import Objective, RunDir, adam
from ..gan_generator import Generator, build_nets, family_hooks

SAMPLE_GRID = 64     # fixed-noise images in each snapshot of an unconditional GAN
SNAPSHOT_CLIPS = 8   # clips in each snapshot of a family that makes clips
GRID_COLS = 8        # conditional GANs: one row per class or code value, this many columns


def batch_spread(x: torch.Tensor) -> float:
    """The mean over positions of the standard deviation across the batch (dim 0). Written out
    because torch's std(0) takes 4 ms on a batch of 16 clips of 16x32x32 on one CPU thread, this 0.6 ms."""
    x = x.float().flatten(1)
    return (x - x.mean(0)).square().sum(0).div(x.shape[0] - 1).sqrt().mean().item()


class GANObjective(Objective):
    """Alternates d_steps discriminator updates and g_steps generator updates per step.
    D's update sees each real batch with its labels and a generated batch with the conditions drawn
    for it; G's update runs D frozen.

    The fake batch of the last D update is reused for the first G update: G has not changed
    in between, so this equals regenerating it and saves one generator forward.
    """

    task = "gan"
    best = ("fid", "min")   # kept as best.pt when --eval-every is on: GAN runs often get worse late

    def __init__(self, cfg, rt=None, data=None):
        super().__init__(cfg, rt)
        rt = self.rt
        family = models.get(cfg.model, "gan").family   # fail on a bad name before loading data
        if data is None:
            data = family.hooks(cfg.family, None).load_data(cfg)
        self.data = data if data is not None else load_images(cfg.data, "train", cfg.channels, cfg.image_size,
                                                              strict=cfg.strict, progress=rt.is_main,
                                                              memory=cfg.data_memory, stream=cfg.stream)
        cfg.check_side(self.data.shape)   # the data's own size (--image-size 0) may be too small for --model
        self.data_info = announce(self.data, cfg.workers, rt.is_main)
        self.sampler = BatchSampler(len(self.data), self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.images = rt.place(self.data.images)
        self.image_shape = self.data.shape
        G, D = build_nets(cfg, self.image_shape, len(self.data.classes or []))
        self.hooks = family_hooks(cfg, G)
        self.labels = rt.place(self.data.labels) if getattr(G, "num_classes", 0) else None
        self.batches = Batches(self.images, self.labels, self.sampler, cfg.workers)
        # clips (N, T, C, H, W) have no channels_last layout
        images = cfg.channels_last and len(self.image_shape) == 3
        self.memory_format = torch.channels_last if images else torch.contiguous_format
        self.G = rt.prepare(G).to(memory_format=self.memory_format)
        self.D = rt.prepare(D).to(memory_format=self.memory_format)
        self.modules = {"G": self.G, "D": self.D}
        # Training views (DDP / compiled). G's update runs D unwrapped and frozen: no D gradient is
        # computed or reduced, and D's DDP never waits for a gradient that will not come.
        self.train_G, self.train_D = rt.wrap(self.G), rt.wrap(self.D)
        betas = (cfg.beta1, cfg.beta2)
        self.optimizers = {"G": adam(G.parameters(), cfg.lr_g or cfg.lr, betas),
                           "D": adam(D.parameters(), cfg.lr_d or cfg.lr, betas)}
        # Augmentation of everything D sees: its own seeded generator, saved for an exact resume.
        self.aug_gen = rt.generator(cfg.seed + 17 + 7919 * rt.rank)
        self.augment_ops = cfg.augment_op_list()
        self.ada = AdaptiveP(cfg.ada_target, int(cfg.ada_kimg * 1000)) if cfg.augment == "ada" else None
        self._collapse = {"d_acc_fake": 0, "diversity": 0}
        self.stop_request: str | None = None
        if cfg.ema:
            self.ema = EMA(self.G, cfg.ema)
            self.G_ema = self.modules["G_ema"] = self.ema.net
        g = torch.Generator().manual_seed(cfg.seed)
        rows = self.hooks.axis()[0]
        n = rows * GRID_COLS if rows else SAMPLE_GRID
        self.grid_nrow = GRID_COLS if rows else None
        self.fixed_z = torch.randn(n, cfg.latent_dim, generator=g).to(rt.device)
        fixed_c = self.hooks.grid(n, GRID_COLS)
        self.fixed_c = None if fixed_c is None else fixed_c.to(rt.device)
        if self.hooks.output == "clips":   # a few clips, each a strip of frames
            self.fixed_z, self.grid_nrow = self.fixed_z[:SNAPSHOT_CLIPS], None
        if cfg.eval_every:   # fail now, not at the first evaluation, if no extractor fits this data
            from ...metrics.extractors import get_extractor

            self._extractor = get_extractor(cfg.eval_extractor, self.image_shape, self.data.name, "--eval-extractor",
                                            device=rt.device)

    def real_batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(what D sees of a real batch, its condition): the images (N, C, H, W) in [-1, 1] and their
        labels for a label-conditioned family, or the family's view of them (real_view). The
        condition of the generated batch that goes with it is kept for noise()."""
        images, labels = self.batches.get(index)
        x = to_float(self.rt.to(images)).contiguous(memory_format=self.memory_format)
        y = None if labels is None else self.rt.to(labels)
        x, y, self._fake_c = self.hooks.real_view(x, y)
        return x.contiguous(memory_format=self.memory_format), y

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z (N, latent_dim), c or None) for n generated images."""
        z = torch.randn(n, self.cfg.latent_dim, device=self.rt.device)
        c = getattr(self, "_fake_c", None)
        return z, (c if c is not None else self.hooks.sample_condition(n, self.rt.device))

    def aug(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: x itself, or x augmented (--augment diffaug, or ada with its current p)."""
        if self.cfg.augment == "none":
            return x
        p = self.ada.p if self.ada is not None else 1.0
        return augment(x, p, self.augment_ops, g=self.aug_gen) if p > 0 else x

    def train_step(self, step: int) -> dict[str, float]:
        cfg, rt, G, D, kind = self.cfg, self.rt, self.train_G, self.train_D, self.cfg.loss
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        thr = losses.decision_threshold(kind)
        view = SimpleNamespace(step=step, D=D, D_frozen=self.D, autocast=self.autocast, aug_gen=self.aug_gen)
        r1 = r2 = None   # the penalties, on the steps they are applied
        for j in range(cfg.d_steps):
            real, y = self.real_batch(step * cfg.d_steps + j)
            last = j == cfg.d_steps - 1
            lazy = j == 0 and step % cfg.r1_every == 0
            r1_now, r2_now = cfg.r1 > 0 and lazy, cfg.r2 > 0 and lazy
            z, c = self.noise(real.shape[0])
            with self.autocast():
                with torch.set_grad_enabled(last):   # only the last fake batch feeds G's first update
                    fake = G(z, c)
                real.requires_grad_(r1_now)
                fake_in = fake.detach().requires_grad_(r2_now)
                judge = rt.eager(D) if r1_now or r2_now else D   # compiled graphs have no double backward
                out_real, out_fake = judge(self.aug(real), y), judge(self.aug(fake_in), c)
            real_logits, fake_logits = losses.adv_logits(out_real), losses.adv_logits(out_fake)
            d_loss = losses.d_loss_heads(kind, out_real, out_fake)   # summed over every adv* head
            view.__dict__.update(real=real, y=y, out_real=out_real, fake=fake, c=c, out_fake=out_fake)
            d_terms = self.hooks.d_terms(view)   # the family's own terms, weighted
            total = d_loss
            for term in d_terms.values():
                total = total + term
            if r1_now:   # lazy R1: gamma/2 E|grad_x D(x)|^2 on reals, every r1_every steps, scaled by r1_every
                r1 = losses.r1_penalty(real_logits, real)
                total = total + 0.5 * cfg.r1 * cfg.r1_every * r1
            if r2_now:   # R2: the same on generated images
                r2 = losses.r1_penalty(fake_logits, fake_in)
                total = total + 0.5 * cfg.r2 * cfg.r1_every * r2
            rt.update(opt_d, total)
            if self.ada is not None:
                self.ada.observe(real_logits, real.shape[0])
        family_stats = self.hooks.train_stats(view)
        self.D.requires_grad_(False)
        out_real_now = None
        if losses.paired(kind):   # each fake is compared with a real through the D just updated (fixed for G's steps)
            with torch.no_grad(), self.autocast():
                out_real_now = self.D(self.aug(real.detach()), y)
        for j in range(cfg.g_steps):
            if j > 0:
                z, c = self.noise(real.shape[0])
                with self.autocast():
                    fake = G(z, c)
            with self.autocast():
                out = self.D(self.aug(fake), c)
            g_loss = losses.g_loss_heads(kind, out, out_real_now)
            view.__dict__.update(fake=fake, c=c, out=out)
            g_terms = self.hooks.g_terms(view)
            total = g_loss
            for term in g_terms.values():
                total = total + term
            rt.update(opt_g, total)
            if cfg.ema:
                self.ema.update(self.G)
        self.D.requires_grad_(True)
        if losses.paired(kind):   # a logit alone means nothing: D is right where a real beats its fake
            d_acc_real = d_acc_fake = (real_logits > fake_logits).float().mean().item()
        else:
            d_acc_real, d_acc_fake = (real_logits > thr).float().mean().item(), (fake_logits < thr).float().mean().item()
        stats = {
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_acc_real": d_acc_real,
            "d_acc_fake": d_acc_fake,
            "d_real": losses.d_score(kind, real_logits).mean().item(),
            "d_fake": losses.d_score(kind, fake_logits).mean().item(),
        }
        stats.update({k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in {**d_terms, **g_terms}.items()},
                     **family_stats)
        stats.update({k: v.item() for k, v in (("r1", r1), ("r2", r2)) if v is not None})
        if self.ada is not None:
            stats["ada_p"] = self.ada.p
        stats["diversity"] = batch_spread(fake.detach())
        self._watch_collapse(step, stats)
        return stats

    def _watch_collapse(self, step: int, stats: dict) -> None:
        """Count the steps in a row where D catches every fake or G's batch has lost its diversity."""
        window = self.cfg.collapse_window
        if not window:
            return
        for key, bad in (("d_acc_fake", stats["d_acc_fake"] >= 0.999), ("diversity", stats["diversity"] < 0.02)):
            self._collapse[key] = self._collapse[key] + 1 if bad else 0
            if self._collapse[key] == window:
                what = ("D has caught every generated image" if key == "d_acc_fake"
                        else "G's images have (nearly) stopped differing from each other")
                msg = f"collapse watch: {what} for {window} steps in a row (step {step + 1})"
                if self.rank == 0:
                    print(f"warning: {msg}; try --augment diffaug, --r1 or a lower --lr-d", file=sys.stderr)
                if self.cfg.stop_on_collapse:
                    self.stop_request = msg

    @property
    def sampler_net(self) -> torch.nn.Module:
        """G, or its EMA with batch norm statistics of its own."""
        if not self.cfg.ema:
            return self.G
        g = torch.Generator().manual_seed(self.cfg.seed + 31)   # the same inputs every time: deterministic
        n, dev = self.local_batch(), self.rt.device
        def inputs():
            z = torch.randn(n, self.cfg.latent_dim, generator=g).to(dev)
            c = self.hooks.sample_condition(n, generator=g)
            return z, (None if c is None else c.to(dev))

        return self.ema.calibrated(inputs)

    def state(self, step: int, metrics: dict | None = None) -> dict:
        self.sampler_net   # checkpoints carry the EMA's own batch-norm statistics
        return super().state(step, metrics)

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        from ...viz import save_grid

        with eval_mode(self.sampler_net) as G:
            images = G(self.fixed_z, self.fixed_c)
        (run.path / "samples").mkdir(exist_ok=True)
        if self.hooks.output == "clips":   # one strip of frames per clip, and an animated GIF
            from ...viz.media import save_gif, save_strip

            clips = images.float().cpu()
            save_strip(clips, run.path / "samples" / f"step_{step:06d}.png")
            save_strip(clips, run.path / "samples.png")
            save_gif(clips, run.path / "samples.gif")
            return
        save_grid(images, run.path / "samples" / f"step_{step:06d}.png", nrow=self.grid_nrow)
        save_grid(images, run.path / "samples.png", nrow=self.grid_nrow)

    def evaluate(self, step: int) -> dict[str, float]:
        """FID and KID of --eval-num samples against the training data (the cheap subset of `ganforge eval`)."""
        from ...metrics.extractors import get_extractor
        from ...metrics.generative import evaluate_generator, reference_features

        if not hasattr(self, "_extractor"):   # built once: loading it and the real features is the slow part
            self._extractor = get_extractor(self.cfg.eval_extractor, self.image_shape, self.data.name,
                                            "--eval-extractor", device=self.rt.device)
        if not hasattr(self, "_real"):   # from the images in training: not read (nor warned about) again
            self._real = reference_features(self._extractor, self.data.name, self.image_shape, data=self.data)
        gen = Generator(nets={"G": self.sampler_net}, config=self.cfg, meta=self.meta())
        gen.weights = "EMA of G" if self.cfg.ema else "raw G"
        m = evaluate_generator(gen, self.cfg.eval_num, self._extractor, seed=self.cfg.seed, kid_subsets=20,
                               full=False, real=self._real, warn=not getattr(self, "_warned_small", False))
        self._warned_small = True   # the small-sample warning: once per run
        self.eval_protocol = m["protocol"]   # best.pt keeps it: a resumed run must score the same way
        return {"fid": m["fid"], "kid": m["kid"]}

    def finish(self, run: RunDir) -> dict:
        from ...viz import plot_gan_curves

        stats = [s for s in run.read_stats() if "d_loss" in s]   # --eval-every adds lines with only fid/kid
        if stats:
            plot_gan_curves(stats, run.path / "losses.png")
        last = stats[-min(len(stats), 100):]
        return {k: sum(s[k] for s in last) / len(last) for k in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")
                if last and k in last[0]}

    def extra_state(self) -> dict:
        state = {"aug_gen": self.aug_gen.get_state(), "ema_updates": self.ema.updates if self.cfg.ema else 0,
                 "collapse": dict(self._collapse)}
        if self.ada is not None:
            state["ada"] = self.ada.state()
        return state

    def load_extra_state(self, state: dict) -> None:
        if "aug_gen" in state:   # checkpoints from before augmentation have none of this
            self.aug_gen.set_state(state["aug_gen"])
            if self.cfg.ema:
                self.ema.updates = state["ema_updates"]
            self._collapse.update(state["collapse"])
        if self.ada is not None and "ada" in state:
            self.ada.load(state["ada"])

    def meta(self) -> dict:
        return {"image_shape": list(self.image_shape), "dataset": self.data.name, "classes": self.data.classes}
