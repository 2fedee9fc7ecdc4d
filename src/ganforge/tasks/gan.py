"""The GAN task: one objective for every generator/discriminator family on the contract
G(z, c) -> x and D(x, c) -> {"adv": logits, "cls"?: class logits, "code"?: Q's code estimate}.

c is None for unconditional families, a label (N,) for cgan / acgan, a code tensor for infogan.
D's loss is the adversarial loss on "adv" plus each present head's loss (aux_weight times the
class loss on real and generated images, the code loss on generated ones); G's loss likewise.
"""
from __future__ import annotations

import sys

import torch

from .. import losses, models
from ..data import BatchSampler, Batches, announce, load_images, to_float
from ..errors import UserError
from ..models.conditional import grid_conditions
from ..augment import AdaptiveP, augment
from ..nn import eval_mode
from ..nn.ema import EMA
from ..engine import checkpoint
from ..engine.loop import Objective, RunDir, adam

SAMPLE_GRID = 64     # fixed-noise images in each snapshot of an unconditional GAN
GRID_COLS = 8        # conditional GANs: one row per class or code value, this many columns


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
        models.get(cfg.model, "gan")   # fail on a bad name before loading data
        self.data = data if data is not None else load_images(cfg.data, "train", cfg.channels, cfg.image_size,
                                                              strict=cfg.strict, progress=rt.is_main,
                                                              memory=cfg.data_memory, stream=cfg.stream)
        self.data_info = announce(self.data, cfg.workers, rt.is_main)
        self.sampler = BatchSampler(len(self.data), self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.images = rt.place(self.data.images)
        self.image_shape = self.data.shape
        G, D = build_nets(cfg, self.image_shape, len(self.data.classes or []))
        self.labels = rt.place(self.data.labels) if getattr(G, "num_classes", 0) else None
        self.batches = Batches(self.images, self.labels, self.sampler, cfg.workers)
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
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
        rows = getattr(G, "num_classes", 0) or getattr(G, "cat_codes", 0)
        n = rows * GRID_COLS if rows else SAMPLE_GRID
        self.grid_nrow = GRID_COLS if rows else None
        self.fixed_z = torch.randn(n, cfg.latent_dim, generator=g).to(rt.device)
        fixed_c = grid_conditions(G, n, GRID_COLS)
        self.fixed_c = None if fixed_c is None else fixed_c.to(rt.device)
        if cfg.eval_every:   # fail now, not at the first evaluation, if no extractor fits this data
            from ..metrics.extractors import get_extractor

            self._extractor = get_extractor(cfg.eval_extractor, self.image_shape, self.data.name)

    def real_batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(images (N, C, H, W) in [-1, 1], their labels (N,) for a label-conditioned family, else None)."""
        images, labels = self.batches.get(index)
        x = to_float(self.rt.to(images)).contiguous(memory_format=self.memory_format)
        return x, (None if labels is None else self.rt.to(labels))

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z (N, latent_dim), c or None) for n generated images."""
        z = torch.randn(n, self.cfg.latent_dim, device=self.rt.device)
        return z, (self.G.sample_c(n, self.rt.device) if hasattr(self.G, "sample_c") else None)

    def aug(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: x itself, or x augmented (--augment diffaug, or ada with its current p)."""
        if self.cfg.augment == "none":
            return x
        p = self.ada.p if self.ada is not None else 1.0
        return augment(x, p, self.augment_ops, g=self.aug_gen) if p > 0 else x

    def head_losses(self, out: dict, c, real: bool = False) -> torch.Tensor | float:
        """The auxiliary heads' losses for D's output `out` on images conditioned on c (labels or codes)."""
        loss = 0.0
        if "cls" in out:
            loss = loss + losses.cls_loss(out["cls"], c)
        if "code" in out and not real:   # real images have no code to recover
            loss = loss + losses.code_loss(out["code"], c, self.G.cat_codes, self.cfg.cont_weight)
        return loss

    def train_step(self, step: int) -> dict[str, float]:
        cfg, rt, G, D, kind = self.cfg, self.rt, self.train_G, self.train_D, self.cfg.loss
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        thr = losses.decision_threshold(kind)
        for j in range(cfg.d_steps):
            real, y = self.real_batch(step * cfg.d_steps + j)
            last = j == cfg.d_steps - 1
            r1_now = cfg.r1 > 0 and j == 0 and step % cfg.r1_every == 0
            z, c = self.noise(real.shape[0])
            with self.autocast():
                with torch.set_grad_enabled(last):   # only the last fake batch feeds G's first update
                    fake = G(z, c)
                real.requires_grad_(r1_now)
                out_real, out_fake = D(self.aug(real), y), D(self.aug(fake.detach()), c)
            real_logits, fake_logits = losses.adv_logits(out_real), losses.adv_logits(out_fake)
            d_loss = losses.d_loss_heads(kind, out_real, out_fake)   # summed over every adv* head
            d_aux = self.head_losses(out_real, y, real=True) + self.head_losses(out_fake, c)
            total = d_loss + cfg.aux_weight * d_aux
            if r1_now:   # lazy R1: gamma/2 E|grad_x D(x)|^2 on reals, every r1_every steps, scaled by r1_every
                r1 = losses.r1_penalty(real_logits, real)
                total = total + 0.5 * cfg.r1 * cfg.r1_every * r1
            rt.update(opt_d, total)
            if self.ada is not None:
                self.ada.observe(real_logits, real.shape[0])
        self.D.requires_grad_(False)
        for j in range(cfg.g_steps):
            if j > 0:
                z, c = self.noise(real.shape[0])
                with self.autocast():
                    fake = G(z, c)
            with self.autocast():
                out = self.D(self.aug(fake), c)
            g_loss = losses.g_loss_heads(kind, out)
            g_aux = self.head_losses(out, c)
            rt.update(opt_g, g_loss + cfg.aux_weight * g_aux)
            if cfg.ema:
                self.ema.update(self.G)
        self.D.requires_grad_(True)
        stats = {
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_acc_real": (real_logits > thr).float().mean().item(),
            "d_acc_fake": (fake_logits < thr).float().mean().item(),
            "d_real": losses.d_score(kind, real_logits).mean().item(),
            "d_fake": losses.d_score(kind, fake_logits).mean().item(),
        }
        if torch.is_tensor(d_aux):
            stats.update(d_aux=d_aux.item(), g_aux=g_aux.item())
        if "cls" in out_real:
            stats["d_cls_acc_real"] = (out_real["cls"].argmax(1) == y).float().mean().item()
        if cfg.r1 > 0 and step % cfg.r1_every == 0:
            stats["r1"] = r1.item()
        if self.ada is not None:
            stats["ada_p"] = self.ada.p
        stats["diversity"] = fake.detach().float().std(0).mean().item()
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
        return self.ema.calibrated(lambda: (torch.randn(n, self.cfg.latent_dim, generator=g).to(dev),
                                            self.G_ema.sample_c(n, generator=g).to(dev)
                                            if hasattr(self.G_ema, "sample_c") else None))

    def state(self, step: int, metrics: dict | None = None) -> dict:
        self.sampler_net   # checkpoints carry the EMA's own batch-norm statistics
        return super().state(step, metrics)

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        from ..viz import save_grid

        with eval_mode(self.sampler_net) as G:
            images = G(self.fixed_z, self.fixed_c)
        (run.path / "samples").mkdir(exist_ok=True)
        save_grid(images, run.path / "samples" / f"step_{step:06d}.png", nrow=self.grid_nrow)
        save_grid(images, run.path / "samples.png", nrow=self.grid_nrow)

    def evaluate(self, step: int) -> dict[str, float]:
        """FID and KID of --eval-num samples against the training data (the cheap subset of `ganforge eval`)."""
        from ..metrics.extractors import get_extractor
        from ..metrics.generative import evaluate_generator

        if not hasattr(self, "_extractor"):   # built once: loading it and the real features is the slow part
            self._extractor = get_extractor(self.cfg.eval_extractor, self.image_shape, self.data.name)
        gen = Generator.around(self.sampler_net, self.cfg, self.meta())
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


def build_nets(cfg, image_shape, num_classes: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(G, D) as the config and the data (image shape, number of classes) describe them: training and
    loading share this, so a checkpoint always rebuilds what trained."""
    G, D = models.create(cfg.model, kind="gan", image_shape=tuple(image_shape), latent_dim=cfg.latent_dim,
                         width=cfg.width, num_classes=num_classes, backbone=cfg.backbone, cond=cfg.cond,
                         cat_codes=cfg.cat_codes, cont_codes=cfg.cont_codes)
    if cfg.spectral_norm:
        from ..nn import spectral_norm_all

        spectral_norm_all(D)
    return G, D


def build(cfg, rt=None) -> GANObjective:
    from .gan_variants import objective_class   # lapgan and videogan bring their own batches
    return objective_class(cfg.model, GANObjective)(cfg, rt)


class Generator:
    """A trained generator rebuilt from its checkpoint: .sample(n) -> (n, C, H, W) in [-1, 1].

    Conditional models take labels= (class indices, one per image or one for all; default: every
    class in turn) and InfoGAN codes= ((n, cat + cont) as made by models.conditional.make_codes;
    default: random)."""

    def __init__(self, ckpt: dict):
        from ..config import GANConfig, from_dict

        config = from_dict(GANConfig, ckpt["config"], f"checkpoint {ckpt['path']}")
        meta = ckpt["meta"]
        G, _ = build_nets(config, meta["image_shape"], len(meta.get("classes") or []))
        name = "G_ema" if "G_ema" in ckpt["modules"] else "G"
        self._setup(checkpoint.load_module(G, ckpt, name).eval(), config, meta)
        self.step, self.path = ckpt["step"], ckpt["path"]

    @classmethod
    def around(cls, net: torch.nn.Module, config, meta: dict) -> "Generator":
        """A net in training seen through this interface (sampled in eval mode, on its own device)."""
        gen = cls.__new__(cls)
        gen._setup(net, config, meta)
        gen.step, gen.path = None, "the run in training"
        return gen

    def _setup(self, net: torch.nn.Module, config, meta: dict) -> None:
        self.net, self.config, self.meta = net, config, meta
        self.image_shape = tuple(meta["image_shape"])
        self.classes = list(meta.get("classes") or [])
        self.num_classes = getattr(net, "num_classes", 0)
        self.cat_codes, self.cont_codes = getattr(net, "cat_codes", 0), getattr(net, "cont_codes", 0)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def label_index(self, label) -> int:
        """A class index from an index or a class name (`--label 3`, `--label Sneaker`)."""
        if not self.num_classes:
            raise UserError(f"{self.path} is a {self.config.model} without class labels: it takes no --label")
        if isinstance(label, str) and not label.lstrip("-").isdigit():
            if label not in self.classes:
                raise UserError(f"unknown class {label!r}; this model's classes: {', '.join(self.classes)}")
            return self.classes.index(label)
        index = int(label)
        if not 0 <= index < self.num_classes:
            raise UserError(f"--label must be in 0..{self.num_classes - 1} (or a class name), got {index}")
        return index

    def _conditions(self, start: int, n: int, g, labels, codes):
        if self.num_classes:
            if labels is None:
                return (torch.arange(start, start + n) % self.num_classes)
            labels = torch.as_tensor(labels).long()
            if labels.ndim == 0:
                return labels.expand(n)
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise UserError(f"labels must be in 0..{self.num_classes - 1}")
            return labels[start:start + n]
        if self.cat_codes:
            if codes is not None:
                return torch.as_tensor(codes, dtype=torch.float32)[start:start + n]
            return self.net.sample_c(n, generator=g)
        if labels is not None or codes is not None:
            raise UserError(f"{self.path} is an unconditional {self.config.model}: it takes no labels or codes")
        return None

    @torch.no_grad()
    def iter_samples(self, n: int, seed: int | None = None, batch_size: int = 256, labels=None, codes=None):
        """sample(n, ...) in chunks of at most batch_size images (each (b, C, H, W)), so that any n
        streams through a fixed amount of memory."""
        if n <= 0:
            raise UserError(f"-n must be positive, got {n}")
        if labels is not None and torch.as_tensor(labels).ndim == 1 and len(labels) != n:
            raise UserError(f"{len(labels)} labels for {n} images")
        g = torch.Generator().manual_seed(seed) if seed is not None else None   # on the CPU: same seed, same images
        device = next(self.net.parameters()).device
        with eval_mode(self.net):
            for start in range(0, n, batch_size):
                b = min(batch_size, n - start)
                z = torch.randn(b, self.latent_dim, generator=g)
                c = self._conditions(start, b, g, labels, codes)
                yield self.net(z.to(device), None if c is None else c.to(device)).float().cpu()

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256, labels=None, codes=None) -> torch.Tensor:
        return torch.cat(list(self.iter_samples(n, seed, batch_size, labels, codes)))

    @torch.no_grad()
    def render(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Images for given noise (N, latent_dim) and conditions, on the CPU."""
        device = next(self.net.parameters()).device
        with eval_mode(self.net):
            return self.net(z.to(device), None if c is None else c.to(device)).float().cpu()

    def interpolate(self, steps: int = 8, seed: int = 0, label=None) -> torch.Tensor:
        """A strip of `steps` images from the noise of `seed` to that of seed + 1 (spherical
        interpolation, which keeps the norm Gaussian noise has); conditional models hold one label."""
        a, b = (torch.randn(self.latent_dim, generator=torch.Generator().manual_seed(s)) for s in (seed, seed + 1))
        t = torch.linspace(0, 1, steps)[:, None]
        omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
        z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        g = torch.Generator().manual_seed(seed)
        c = self._conditions(0, 1, g, self.label_index(label) if label is not None else None, None)
        return self.render(z, None if c is None else c.expand(steps, *c.shape[1:]))

    def traverse(self, code: int = 1, steps: int = 8, seed: int = 0) -> torch.Tensor:
        """InfoGAN: one row per categorical value, columns sweeping continuous code `code` (1-based)
        from -1 to 1 with the other codes at 0; one noise vector per row. (cat_codes * steps, C, H, W)."""
        if not self.cat_codes:
            raise UserError(f"{self.path} is a {self.config.model}: --traverse needs a model with codes (infogan)")
        if not 1 <= code <= self.cont_codes:
            raise UserError(f"--traverse c{code}: this model has continuous codes c1..c{self.cont_codes}")
        from ..models.conditional import make_codes

        rows, cols = self.cat_codes, steps
        z = torch.randn(rows, self.latent_dim, generator=torch.Generator().manual_seed(seed)).repeat_interleave(cols, 0)
        cont = torch.zeros(rows * cols, self.cont_codes)
        cont[:, code - 1] = torch.linspace(-1, 1, cols).repeat(rows)
        return self.render(z, make_codes(torch.arange(rows).repeat_interleave(cols), cont, self.cat_codes))


def load(ckpt: dict) -> Generator:
    return Generator(ckpt)


def evaluate(ckpt: dict, num: int | None = None, extractor: str = "auto", data: str | None = None, seed: int = 0) -> dict:
    """`ganforge eval` of a GAN checkpoint: FID, KID, IS, precision/recall (metrics.generative)."""
    from .gan_variants import evaluate_any   # clips: identity and motion; images: FID, KID, ...

    return evaluate_any(Generator(ckpt), num, extractor, data, seed)
