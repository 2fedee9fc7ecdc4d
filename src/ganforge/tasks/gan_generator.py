"""A trained GAN generator behind one interface (sampling, labels, codes, traversals, strips), and
the builder of a GAN family's nets that training and loading share."""
from __future__ import annotations

import torch

from .. import models
from ..nn import checkpoint
from ..errors import UserError
from ..nn import eval_mode


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
