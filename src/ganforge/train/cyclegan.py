"""The CycleGAN task (Zhu et al. 2017): G: A->B and F: B->A with discriminators D_X (judges
domain A) and D_Y (judges domain B), trained with

    L = LSGAN(G, D_Y) + LSGAN(F, D_X) + lambda (|F(G(x)) - x|_1 + |G(F(y)) - y|_1)
        + identity * lambda (|G(y) - y|_1 + |F(x) - x|_1)

Discriminators see generated images through a 50-image history pool; Adam(2e-4, 0.5) with a
constant learning rate for the first half of the steps and a linear decay to 0 over the second.
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as nnf

from .. import models
from ..data import BatchSampler, to_float
from ..data.unpaired import load_unpaired, random_crop_flip
from ..errors import UserError
from .loop import Objective, RunDir

DIRECTIONS = ("AtoB", "BtoA")
PANEL = 6            # test images per domain in a sample panel


# ----------------------------------------------------------------------------- pieces

def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Discriminator least-squares loss: 1/2 (E (D(real) - 1)^2 + E D(fake)^2)."""
    return 0.5 * ((real.float() - 1).pow(2).mean() + fake.float().pow(2).mean())


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Generator least-squares loss: E (D(G(x)) - 1)^2 (no 1/2, as in the reference code)."""
    return (fake.float() - 1).pow(2).mean()


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute error: the cycle and identity losses."""
    return (a.float() - b.float()).abs().mean()


def lr_factor(step: int, steps: int, decay_from: float = 0.5) -> float:
    """Learning-rate multiplier at 0-based `step` of `steps`: 1 until decay_from * steps, then a
    straight line that would reach 0 one step after the last."""
    start = int(decay_from * steps)
    if step < start:
        return 1.0
    return max(0.0, (steps - step) / (steps - start))


class ImagePool:
    """History of generated images (Shrivastava et al. 2017). query(batch) returns, per image:
    while the pool holds fewer than `size`, the image itself (and stores it); afterwards, with
    probability 1/2 a random stored image (replaced by the new one), else the new image."""

    def __init__(self, size: int = 50, seed: int = 0):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.g = torch.Generator().manual_seed(seed)

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach().float():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand(1, generator=self.g).item() < 0.5:
                i = int(torch.randint(0, self.size, (1,), generator=self.g))
                out.append(self.images[i])
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out).to(batch.dtype)

    def state(self) -> dict:
        images = torch.stack(self.images) if self.images else torch.zeros(0)
        return {"images": images, "rng": self.g.get_state()}

    def load(self, state: dict) -> None:
        self.images = list(state["images"].unbind(0)) if state["images"].numel() else []
        self.g.set_state(state["rng"])


def build_nets(cfg) -> dict[str, torch.nn.Module]:
    """G, F (translators) and D_X, D_Y (PatchGANs) from a CycleGANConfig, 3-channel images."""
    models.get(cfg.generator, "translator")
    return {"G": models.create(cfg.generator, "translator", width=cfg.width),
            "F": models.create(cfg.generator, "translator", width=cfg.width),
            "D_X": models.create("patchgan", "discriminator", width=cfg.width),
            "D_Y": models.create("patchgan", "discriminator", width=cfg.width)}


# ----------------------------------------------------------------------------- objective

class CycleGANObjective(Objective):
    task = "cyclegan"

    def __init__(self, cfg, rank: int = 0, world: int = 1, data=None):
        super().__init__(cfg, rank, world)
        nets = build_nets(cfg)
        self.data = data if data is not None else load_unpaired(cfg.data, cfg.load_size, cfg.crop_size,
                                                                cfg.strict, progress=rank == 0)
        self.sampler_A = BatchSampler(len(self.data.A), cfg.batch_size, cfg.seed, rank, world)
        self.sampler_B = BatchSampler(len(self.data.B), cfg.batch_size, cfg.seed + 1, rank, world)
        self.modules = nets
        self.G, self.F, self.D_X, self.D_Y = nets["G"], nets["F"], nets["D_X"], nets["D_Y"]
        betas = (cfg.beta1, cfg.beta2)
        self.optimizers = {
            "G": torch.optim.Adam(itertools.chain(self.G.parameters(), self.F.parameters()), cfg.lr, betas),
            "D": torch.optim.Adam(itertools.chain(self.D_X.parameters(), self.D_Y.parameters()), cfg.lr, betas)}
        self.pool_A = ImagePool(cfg.pool_size, cfg.seed + 2)   # generated A images, for D_X
        self.pool_B = ImagePool(cfg.pool_size, cfg.seed + 3)   # generated B images, for D_Y
        if self.data.truthA is not None:
            self.best = ("AtoB_psnr_truth", "max")

    def batch(self, domain: str, step: int) -> torch.Tensor:
        images, sampler = (self.data.A, self.sampler_A) if domain == "A" else (self.data.B, self.sampler_B)
        # Crops and flips depend only on (seed, step, domain), so a resumed run sees the same batches.
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + 2 * step + (domain == "B"))
        return to_float(random_crop_flip(images[sampler.indices(step)], self.cfg.crop_size, self.cfg.flip, g))

    def train_step(self, step: int) -> dict[str, float]:
        cfg = self.cfg
        G, F, D_X, D_Y = self.G, self.F, self.D_X, self.D_Y
        lr = cfg.lr * lr_factor(step, cfg.steps, cfg.decay_from)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        real_A, real_B = self.batch("A", step), self.batch("B", step)

        # Generators: D_X and D_Y are frozen so their gradients are not computed here.
        D_X.requires_grad_(False)
        D_Y.requires_grad_(False)
        with self.autocast():
            fake_B = G(real_A)
            fake_A = F(real_B)
            adv = lsgan_g(D_Y(fake_B)) + lsgan_g(D_X(fake_A))
            cycle = l1(F(fake_B), real_A) + l1(G(fake_A), real_B)
            loss = adv + cfg.lambda_cycle * cycle
            if cfg.identity > 0:
                ident = l1(G(real_B), real_B) + l1(F(real_A), real_A)
                loss = loss + cfg.identity * cfg.lambda_cycle * ident
        opt_g = self.optimizers["G"]
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()

        D_X.requires_grad_(True)
        D_Y.requires_grad_(True)
        old_B, old_A = self.pool_B.query(fake_B.detach()), self.pool_A.query(fake_A.detach())
        with self.autocast():
            d_y = lsgan_d(D_Y(real_B), D_Y(old_B))
            d_x = lsgan_d(D_X(real_A), D_X(old_A))
        opt_d = self.optimizers["D"]
        opt_d.zero_grad(set_to_none=True)
        (d_x + d_y).backward()
        opt_d.step()
        stats = {"g_adv": adv.item(), "cycle": cycle.item(), "d_x": d_x.item(), "d_y": d_y.item(), "lr": lr}
        if cfg.identity > 0:
            stats["identity"] = ident.item()
        return stats

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        d = self.data
        a, b = to_float(d.testA[:PANEL]), to_float(d.testB[:PANEL])
        with self.autocast():
            ga, fb = self.G(a).float(), self.F(b).float()
            rows = [("A", a), ("G(A)", ga)]
            if d.truthA is not None:
                rows.append(("true B", to_float(d.truthA[:PANEL])))
            rows += [("F(G(A))", self.F(ga).float()), ("B", b), ("F(B)", fb)]
            if d.truthB is not None:
                rows.append(("true A", to_float(d.truthB[:PANEL])))
            rows.append(("G(F(B))", self.G(fb).float()))
        (run.path / "samples").mkdir(exist_ok=True)
        for path in (run.path / "samples" / f"step_{step:06d}.png", run.path / "samples.png"):
            save_panel(rows, path)

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        from ..metrics.translation import psnr

        n = self.cfg.eval_num or len(self.data.testA)
        a = to_float(self.data.testA[:n])
        with self.autocast():
            ga = self.G(a).float()
            out = {"AtoB_cycle_psnr": psnr(self.F(ga).float(), a).mean().item()}
        if self.data.truthA is not None:
            out["AtoB_psnr_truth"] = psnr(ga, to_float(self.data.truthA[:n])).mean().item()
        return out

    def finish(self, run: RunDir) -> dict:
        from ..viz import plot_curves

        stats = [s for s in run.read_stats() if "cycle" in s]
        if stats:
            steps = [s["step"] for s in stats]
            keys = [k for k in ("g_adv", "cycle", "identity", "d_x", "d_y") if k in stats[0]]
            plot_curves({k: (steps, [s[k] for s in stats]) for k in keys}, run.path / "losses.png",
                        title="CycleGAN losses", ylabel="loss")
        summary = self.evaluate(self.cfg.steps)
        if self.data.truthA is not None:   # the untranslated input, for comparison
            from ..metrics.translation import psnr

            n = self.cfg.eval_num or len(self.data.testA)
            summary["AtoB_input_psnr_truth"] = psnr(to_float(self.data.testA[:n]),
                                                    to_float(self.data.truthA[:n])).mean().item()
        return summary

    def meta(self) -> dict:
        return {"dataset": self.data.name, "image_size": self.cfg.crop_size, "channels": 3}

    def extra_state(self) -> dict:
        return {"pool_A": self.pool_A.state(), "pool_B": self.pool_B.state()}

    def load_extra_state(self, state: dict) -> None:
        if state:
            self.pool_A.load(state["pool_A"])
            self.pool_B.load(state["pool_B"])


def save_panel(rows: list[tuple[str, torch.Tensor]], path) -> None:
    """One labelled row per (label, (n, 3, H, W) in [-1, 1]) pair, upscaled to >= 96 px cells."""
    from PIL import Image, ImageDraw

    from ..viz import make_grid

    h = rows[0][1].shape[-1]
    up = max(1, -(-96 // h))
    grids = [make_grid(x, nrow=x.shape[0], upscale=up) for _, x in rows]
    label_w, row_h = 70, grids[0].shape[0]
    panel = Image.new("RGB", (label_w + grids[0].shape[1], row_h * len(rows)), "white")
    draw = ImageDraw.Draw(panel)
    for i, ((label, _), grid) in enumerate(zip(rows, grids)):
        panel.paste(Image.fromarray(grid), (label_w, i * row_h))
        draw.text((4, i * row_h + row_h // 2 - 6), label, fill="black")
    panel.save(path)


def build(cfg, rank: int = 0, world: int = 1) -> CycleGANObjective:
    return CycleGANObjective(cfg, rank, world)
