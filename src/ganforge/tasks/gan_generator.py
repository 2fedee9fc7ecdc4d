"""A trained GAN generator behind one interface (sampling, conditions, views, traversals, strips),
and the builder of a GAN family's nets that training and loading share. What differs between
families (their conditions, codes, views, what they make) comes from the family's hooks."""
from __future__ import annotations

import torch

from .. import models
from ..config import GANConfig
from ..nn import checkpoint
from ..errors import UserError
from ..nn import eval_mode
from ..models.loader import Loaded


def build_nets(cfg, image_shape, num_classes: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(G, D) as the config and the data (image shape, number of classes) describe them: training and
    loading share this, so a checkpoint always rebuilds what trained. The builder gets the generic
    sizes it names and the family's own settings it names."""
    entry = models.get(cfg.model, "gan")
    takes = models.registry.accepted(entry)
    generic = dict(image_shape=tuple(image_shape), latent_dim=cfg.latent_dim, width=cfg.width,
                   num_classes=num_classes)
    own = entry.family.hooks(cfg.family, None).build_args()
    kwargs = {k: v for k, v in {**generic, **own}.items() if k in takes}
    G, D = models.create(cfg.model, kind="gan", **kwargs)
    if cfg.spectral_norm:
        from ..nn import spectral_norm_all

        spectral_norm_all(D)
    return G, D


def family_hooks(cfg, G):
    """The hooks of cfg's family around the generator net G."""
    return models.get(cfg.model, "gan").family.hooks(cfg.family, checkpoint.unwrap(G))


class Generator(Loaded):
    """A trained generator: .sample(n) -> (n, C, H, W) in [-1, 1] ((n, T, C, H, W) for a family that
    makes clips). Conditions are asked for, never built by hand:

        gen.sample(16, labels=3)                       # a label-conditioned family: class 3
        gen.sample(16, codes={"cat": 3, "c1": 0.5})    # a family with codes: any codes left out are random

    `conditions(n, request)` turns such a request into the c tensor (sample, serve, export and eval
    all go through it). Generator(ckpt), or Generator(nets={"G": net}, config=cfg, meta=meta)."""

    config_class = GANConfig

    def build_nets(self, config, meta):
        return {"G": build_nets(config, meta["image_shape"], len(meta.get("classes") or []))[0]}

    def weight_key(self, name, ckpt):
        key = "G_ema" if "G_ema" in ckpt["modules"] else "G"
        self.weights = "EMA of G" if key == "G_ema" else "raw G"   # recorded in eval.json's protocol
        return key

    @classmethod
    def inference_modules(cls, modules):
        return ["G_ema"] if "G_ema" in modules else ["G"]

    @classmethod
    def card_io(cls, config, meta):
        shape = ", ".join(map(str, meta["image_shape"]))   # (C, H, W), or (T, C, H, W) for clips
        return {"value_range": [-1, 1],
                "inputs": {"z": f"(N, {config.get('latent_dim')}) standard normal noise",
                           "c": "labels (N,) int64, codes (N, cat+cont) float, or none (conditional models only)"},
                "outputs": {"image": f"(N, {shape}) float in [-1, 1]"}}

    def setup(self, nets) -> None:
        self.net = nets["G"]
        self.image_shape = tuple(self.meta["image_shape"])
        self.classes = list(self.meta.get("classes") or [])
        self.num_classes = getattr(self.net, "num_classes", 0)
        self.hooks = family_hooks(self.config, self.net)
        self.output = self.hooks.output   # "images" or "clips"

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def axis(self) -> tuple[int, str]:
        """(K, what) of the discrete condition a grid shows one row per value of (K = 0: none)."""
        return self.hooks.axis()

    @property
    def code_spec(self) -> dict:
        """The codes a request may set: name -> number of values, or (low, high) for a continuous one."""
        return self.hooks.code_spec()

    @property
    def views(self) -> tuple[str, ...]:
        """Names of the extra sample views this family has (view(name, ...))."""
        return tuple(self.hooks.views())

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

    def conditions(self, n: int, request: dict | None = None, start: int = 0, generator=None):
        """c for images start..start + n of a request {"labels": ..., "codes": ..., "rows": cols}
        (None for an unconditional family; random conditions for an empty request)."""
        return self.hooks.conditions(n, request or {}, start, generator)

    @torch.no_grad()
    def iter_samples(self, n: int, seed: int | None = None, batch_size: int = 256, labels=None, codes=None,
                     rows: int | None = None):
        """sample(n, ...) in chunks of at most batch_size images (each (b, C, H, W)), so that any n
        streams through a fixed amount of memory. rows: one row of `rows` images per axis value."""
        if n <= 0:
            raise UserError(f"-n must be positive, got {n}")
        if labels is not None and torch.as_tensor(labels).ndim == 1 and len(labels) != n:
            raise UserError(f"{len(labels)} labels for {n} images")
        g = torch.Generator().manual_seed(seed) if seed is not None else None   # on the CPU: same seed, same images
        request = {"labels": labels, "codes": codes, "rows": rows}
        with eval_mode(self.net):
            for start in range(0, n, batch_size):
                b = min(batch_size, n - start)
                z = torch.randn(b, self.latent_dim, generator=g)
                c = self.conditions(b, request, start, g)
                yield self.net(self.to_device(z), None if c is None else self.to_device(c)).float().cpu()

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256, labels=None, codes=None,
               rows: int | None = None) -> torch.Tensor:
        return torch.cat(list(self.iter_samples(n, seed, batch_size, labels, codes, rows)))

    @torch.no_grad()
    def render(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Images for given noise (N, latent_dim) and conditions, on the CPU."""
        with eval_mode(self.net):
            return self.net(self.to_device(z), None if c is None else self.to_device(c)).float().cpu()

    @torch.no_grad()
    def view(self, name: str, n: int = 8, seed: int = 0) -> list[torch.Tensor]:
        """An extra sample view of n samples (LAPGAN's "levels": one (n, C, h, w) set per level)."""
        views = self.hooks.views()
        if name not in views:
            raise UserError(f"{self.path} is a {self.config.model}: it has no {name} view"
                            + (f" (its views: {', '.join(views)})" if views else ""))
        z = torch.randn(n, self.latent_dim, generator=torch.Generator().manual_seed(seed))
        with eval_mode(self.net):
            return [v.float().cpu() for v in views[name](self.net, self.to_device(z))]

    def interpolate(self, steps: int = 8, seed: int = 0, label=None) -> torch.Tensor:
        """A strip of `steps` images from the noise of `seed` to that of seed + 1 (spherical
        interpolation, which keeps the norm Gaussian noise has); conditional models hold one condition."""
        a, b = (torch.randn(self.latent_dim, generator=torch.Generator().manual_seed(s)) for s in (seed, seed + 1))
        t = torch.linspace(0, 1, steps)[:, None]
        omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
        z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        g = torch.Generator().manual_seed(seed)
        labels = self.label_index(label) if label is not None else None
        c = self.conditions(1, {"labels": labels}, 0, g)
        return self.render(z, None if c is None else c.expand(steps, *c.shape[1:]))

    def traverse(self, code: str = "c1", steps: int = 8, seed: int = 0) -> torch.Tensor:
        """One row per value of the discrete axis, columns sweeping the continuous code `code` over its
        range with the other continuous codes at their middle; one noise vector per row.
        (K * steps, C, H, W)."""
        spec, (rows, _) = self.code_spec, self.axis
        continuous = [k for k, v in spec.items() if isinstance(v, tuple)]
        if not continuous or not rows:
            raise UserError(f"{self.path} is a {self.config.model}: --traverse needs a model with codes")
        if code not in continuous:
            raise UserError(f"--traverse {code}: this model has continuous codes {', '.join(continuous)}")
        discrete = next(k for k, v in spec.items() if not isinstance(v, tuple))
        z = torch.randn(rows, self.latent_dim, generator=torch.Generator().manual_seed(seed)).repeat_interleave(steps, 0)
        lo, hi = spec[code]
        cs = []
        for r in range(rows):
            for v in torch.linspace(lo, hi, steps).tolist():
                fixed = {k: (spec[k][0] + spec[k][1]) / 2 for k in continuous}
                cs.append(self.conditions(1, {"codes": {**fixed, discrete: r, code: v}}))
        return self.render(z, torch.cat(cs))
