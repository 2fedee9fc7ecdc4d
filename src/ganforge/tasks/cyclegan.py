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
from ..nn import checkpoint, losses
from ..nn.ema import EMA
from ..data import BatchSampler, Batches, announce, to_float
from ..data.unpaired import load_unpaired, random_crop_flip
from ..errors import UserError
from ..engine.loop import Objective, RunDir, adam
from ..config import CycleGANConfig
from ..models.loader import Loaded
from ..viz.panels import photo_panel, save_panel

DIRECTIONS = ("AtoB", "BtoA")
PANEL = 6            # test images per domain in a sample panel


# ----------------------------------------------------------------------------- pieces

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
    gen = dict(width=cfg.width, upsample=cfg.upsample, norm=cfg.norm, skip=cfg.skip)
    return {"G": models.create(cfg.generator, "translator", **gen),
            "F": models.create(cfg.generator, "translator", **gen),
            "D_X": models.create("patchgan", "discriminator", width=cfg.width),
            "D_Y": models.create("patchgan", "discriminator", width=cfg.width)}


# ----------------------------------------------------------------------------- objective

class CycleGANObjective(Objective):
    task = "cyclegan"

    def __init__(self, cfg, rt=None, data=None):
        super().__init__(cfg, rt)
        rt = self.rt
        nets = {k: rt.prepare(net) for k, net in build_nets(cfg).items()}
        self.data = data if data is not None else load_unpaired(cfg.data, cfg.load_size, cfg.crop_size,
                                                                cfg.strict, rt.is_main, cfg.data_memory, cfg.stream)
        self.data_info = announce(self.data, cfg.workers, rt.is_main)
        self.sampler_A = BatchSampler(len(self.data.A), self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.sampler_B = BatchSampler(len(self.data.B), self.local_batch(), cfg.seed + 1, rt.rank, rt.world)
        workers = max(1, cfg.workers // 2) if cfg.workers else 0   # --workers shared by the two domains
        self.batches = {"A": Batches(self.data.A, None, self.sampler_A, workers),
                        "B": Batches(self.data.B, None, self.sampler_B, workers)}
        self.modules = nets
        self.G, self.F, self.D_X, self.D_Y = nets["G"], nets["F"], nets["D_X"], nets["D_Y"]
        # Training views (DDP / compiled); the generator update runs the discriminators unwrapped and frozen.
        self.train_nets = {k: rt.wrap(net) for k, net in nets.items()}
        betas = (cfg.beta1, cfg.beta2)
        self.optimizers = {
            "G": adam(itertools.chain(self.G.parameters(), self.F.parameters()), cfg.lr, betas),
            "D": adam(itertools.chain(self.D_X.parameters(), self.D_Y.parameters()), cfg.lr, betas)}
        # --ema: averages of G and F (no batch norm in them, so nothing to recalibrate); what the run's
        # samples, evaluations and checkpoint users translate with
        self.ema = {k: EMA(nets[k], cfg.ema) for k in ("G", "F")} if cfg.ema else {}
        for k, avg in self.ema.items():
            self.modules[f"{k}_ema"] = avg.net
        self.pool_A = ImagePool(cfg.pool_size, cfg.seed + 2)   # generated A images, for D_X
        self.pool_B = ImagePool(cfg.pool_size, cfg.seed + 3)   # generated B images, for D_Y
        if self.data.truthA is not None:
            self.best = ("AtoB_psnr_truth", "max")

    def batch(self, domain: str, step: int) -> torch.Tensor:
        images, _ = self.batches[domain].get(step)
        # Crops and flips depend only on (seed, step, domain), so a resumed run sees the same batches.
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + 2 * step + (domain == "B") + 7919 * self.rank)
        return to_float(self.rt.to(random_crop_flip(images, self.cfg.crop_size, self.cfg.flip, g)))

    def train_step(self, step: int) -> dict[str, float]:
        cfg, rt = self.cfg, self.rt
        G, F, D_X, D_Y = (self.train_nets[k] for k in ("G", "F", "D_X", "D_Y"))
        lr = cfg.lr * lr_factor(step, cfg.steps, cfg.decay_from)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        real_A, real_B = self.batch("A", step), self.batch("B", step)

        # Generators: D_X and D_Y are frozen so their gradients are not computed here.
        self.D_X.requires_grad_(False)
        self.D_Y.requires_grad_(False)
        with self.autocast():
            fake_B = G(real_A)
            fake_A = F(real_B)
            adv = losses.g_loss("lsgan", self.D_Y(fake_B).float()) + losses.g_loss("lsgan", self.D_X(fake_A).float())
            cycle = l1(F(fake_B), real_A) + l1(G(fake_A), real_B)
            loss = adv + cfg.lambda_cycle * cycle
            if cfg.identity > 0:
                ident = l1(G(real_B), real_B) + l1(F(real_A), real_A)
                loss = loss + cfg.identity * cfg.lambda_cycle * ident
        rt.update(self.optimizers["G"], loss)
        for k, avg in self.ema.items():
            avg.update(self.modules[k])

        self.D_X.requires_grad_(True)
        self.D_Y.requires_grad_(True)
        old_B, old_A = self.pool_B.query(fake_B.detach()), self.pool_A.query(fake_A.detach())
        with self.autocast():
            d_y = losses.d_loss("lsgan", D_Y(real_B).float(), D_Y(old_B).float())
            d_x = losses.d_loss("lsgan", D_X(real_A).float(), D_X(old_A).float())
        rt.update(self.optimizers["D"], d_x + d_y)
        stats = {"g_adv": adv.item(), "cycle": cycle.item(), "d_x": d_x.item(), "d_y": d_y.item(), "lr": lr}
        if cfg.identity > 0:
            stats["identity"] = ident.item()
        return stats

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        d = self.data
        a, b = (to_float(self.rt.to(t[:PANEL])) for t in (d.testA, d.testB))
        G, F = self.translators()
        with self.autocast():
            ga, fb = G(a).float(), F(b).float()
            rows = [("A", a), ("G(A)", ga)]
            if d.truthA is not None:
                rows.append(("true B", to_float(d.truthA[:PANEL])))
            rows += [("F(G(A))", F(ga).float()), ("B", b), ("F(B)", fb)]
            if d.truthB is not None:
                rows.append(("true A", to_float(d.truthB[:PANEL])))
            rows.append(("G(F(B))", G(fb).float()))
        (run.path / "samples").mkdir(exist_ok=True)
        for path in (run.path / "samples" / f"step_{step:06d}.png", run.path / "samples.png"):
            save_panel(rows, path)

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        """Cycle-reconstruction PSNR per direction and, with a known truth, the translation's PSNR."""
        from ..metrics.translation import psnr

        n = self._eval_num()
        out = {}
        for name, there, back, test, truth in self._directions():
            x = to_float(test[:n])
            with self.autocast():
                y = there(self.rt.to(x)).float().cpu()
                out[f"{name}_cycle_psnr"] = psnr(back(self.rt.to(y)).float().cpu(), x).mean().item()
            if truth is not None:
                out[f"{name}_psnr_truth"] = psnr(y, to_float(truth[:n])).mean().item()
        return out

    def translators(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        """(G, F) as a user of the checkpoint gets them: their averages under --ema, else the nets in training."""
        if self.ema:
            return self.ema["G"].net, self.ema["F"].net
        return self.G, self.F

    def _eval_num(self) -> int:
        return self.cfg.eval_num or len(self.data.testA)

    def _directions(self):
        d, (G, F) = self.data, self.translators()
        return (("AtoB", G, F, d.testA, d.truthA), ("BtoA", F, G, d.testB, d.truthB))

    def finish(self, run: RunDir) -> dict:
        from ..viz import plot_curves

        stats = [s for s in run.read_stats() if "cycle" in s]
        if stats:
            steps = [s["step"] for s in stats]
            keys = [k for k in ("g_adv", "cycle", "identity", "d_x", "d_y") if k in stats[0]]
            plot_curves({k: (steps, [s[k] for s in stats]) for k in keys}, run.path / "losses.png",
                        title="CycleGAN losses", ylabel="loss")
        from ..metrics.translation import psnr

        summary = self.evaluate(self.cfg.steps)
        if self.data.truthA is not None and self.rt.is_main:   # the embedded set: its photos at full size
            G, F = self.translators()
            with torch.no_grad():
                photo_panel(lambda x: G(self.rt.to(x)).float().cpu(),
                            lambda x: F(self.rt.to(x)).float().cpu(), run.path / "photos.png")
        n = self._eval_num()
        for name, _, _, test, truth in self._directions():
            if truth is not None:   # the untranslated input, for comparison
                summary[f"{name}_input_psnr_truth"] = psnr(to_float(test[:n]), to_float(truth[:n])).mean().item()
        pairs = [(f"{d} PSNR to the truth (dB)", summary[f"{d}_psnr_truth"], summary[f"{d}_input_psnr_truth"])
                 for d in ("AtoB", "BtoA") if f"{d}_input_psnr_truth" in summary]
        if pairs:   # the trivial baseline: leave the image as it is
            from ..metrics.translation import against_baseline

            summary["verdict"] = against_baseline("CycleGAN", "the untranslated input", pairs,
                                                  "train longer (more --steps); until then the input itself is "
                                                  "closer to the true translation")
        return summary

    def meta(self) -> dict:
        return {"dataset": self.data.name, "image_size": self.cfg.crop_size, "channels": 3}

    def extra_state(self) -> dict:
        return {"pool_A": self.pool_A.state(), "pool_B": self.pool_B.state(),
                "ema_updates": {k: avg.updates for k, avg in self.ema.items()}}

    def load_extra_state(self, state: dict) -> None:
        if state:
            self.pool_A.load(state["pool_A"])
            self.pool_B.load(state["pool_B"])
            for k, n in state.get("ema_updates", {}).items():
                if k in self.ema:
                    self.ema[k].updates = n


def build(cfg, rt=None) -> CycleGANObjective:
    return CycleGANObjective(cfg, rt)


# ----------------------------------------------------------------------------- using a checkpoint

class Translator(Loaded):
    """Both generators of a CycleGAN checkpoint: translate(images, "AtoB" | "BtoA")."""

    config_class = CycleGANConfig

    @classmethod
    def inference_modules(cls, modules):
        names = [f"{k}_ema" if f"{k}_ema" in modules else k for k in ("G", "F")]   # the averages where trained
        return [k for k in names if k in modules]

    @classmethod
    def card_io(cls, config, meta):
        return {"value_range": [-1, 1], "inputs": {"image": "(N, 3, H, W) float in [-1, 1]"},
                "outputs": {"image": "(N, 3, H', W') float in [-1, 1]"}}

    def build_nets(self, config, meta):
        nets = build_nets(config)   # the objective's own builder: the same nets that trained
        return {"G": nets["G"], "F": nets["F"]}

    def weight_key(self, name, ckpt):
        """A net's average under --ema, else the net; an imported file may hold G alone."""
        if f"{name}_ema" in ckpt["modules"]:
            return f"{name}_ema"
        return name if name == "G" or name in ckpt["modules"] else None

    def setup(self, nets) -> None:
        self.image_size = int(self.meta["image_size"])
        self.nets = {direction: nets[name].requires_grad_(False)
                     for direction, name in zip(DIRECTIONS, ("G", "F")) if name in nets}

    def generator(self, direction: str) -> torch.nn.Module:
        if direction in DIRECTIONS and direction not in self.nets:   # `ganforge import cyclegan` of one file
            raise UserError(f"{self.path} holds only the AtoB generator (imported without G_B): no {direction}")
        if direction not in self.nets:
            raise UserError(f"--direction must be AtoB or BtoA, got {direction!r}")
        return self.nets[direction]

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "AtoB", batch_size: int = 16,
                  tile: int | None = None) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1], any H and W -> (N, 3, H, W) in [-1, 1]. Sides that are not
        multiples of 4 are reflection-padded for the net and cropped back. tile: run the net on
        tile x tile parts (a multiple of 4) with the generator's receptive field as overlap and
        the whole image's instance-norm statistics (nn.tiled): the same result in less memory."""
        from ..nn.tiled import tiled_forward

        net = self.generator(direction)
        if tile is not None and (tile < 4 or tile % 4):
            raise UserError(f"--tile must be a positive multiple of 4, got {tile}")
        h, w = images.shape[-2:]
        ph, pw = -h % 4, -w % 4
        out = []
        for chunk in images.split(batch_size):
            x = self.to_device(chunk).float()
            x = nnf.pad(x, (0, pw, 0, ph), mode="reflect") if ph or pw else x
            y = tiled_forward(net, x, tile, net.context) if tile and tile < max(x.shape[-2:]) else net(x)
            out.append(y[..., :h, :w].float().cpu())
        return torch.cat(out)


LOADER = Translator


def load(ckpt: dict, device=None) -> Translator:
    return Translator(ckpt, device=device)


def evaluate(ckpt: dict, num: int | None = None, extractor: str = "auto", device=None, **_) -> dict[str, float]:
    """Per direction: cycle-reconstruction PSNR/SSIM on the test split; on the embedded set the
    PSNR/SSIM of the translation (and of the untranslated input) against the known truth; and
    FID of translated test images against the real target-domain test images when an extractor
    is available (skipped on the embedded set with extractor "auto": 32 test images per domain
    and no classifier trained for these domains make FID meaningless there)."""
    from ..data.unpaired import EMBEDDED
    from ..metrics.translation import psnr, ssim

    tr = Translator(ckpt, device=device)
    cfg = tr.config
    data = load_unpaired(cfg.data, cfg.load_size, cfg.crop_size, cfg.strict)
    want_fid = not (cfg.data == EMBEDDED and extractor == "auto")
    out: dict[str, float] = {}
    for direction, src, dst, truth in (("AtoB", data.testA, data.testB, data.truthA),
                                       ("BtoA", data.testB, data.testA, data.truthB))[:len(tr.nets)]:
        n = min(num or len(src), len(src))
        x = to_float(src[:n])
        y = tr.translate(x, direction)
        if len(tr.nets) == 2:   # an imported AtoB generator alone has no way back
            back = tr.translate(y, "BtoA" if direction == "AtoB" else "AtoB")
            out[f"{direction}_cycle_psnr"] = psnr(back, x).mean().item()
            out[f"{direction}_cycle_ssim"] = ssim(back, x).mean().item()
        if truth is not None:
            t = to_float(truth[:n])
            out[f"{direction}_psnr_truth"] = psnr(y, t).mean().item()
            out[f"{direction}_ssim_truth"] = ssim(y, t).mean().item()
            out[f"{direction}_input_psnr_truth"] = psnr(x, t).mean().item()
            out[f"{direction}_input_ssim_truth"] = ssim(x, t).mean().item()
        if want_fid:
            out[f"{direction}_fid"], out["fid_features"] = _fid(y, to_float(dst[:num or len(dst)]), extractor,
                                                                data.name, tr.device)
    return out


def _fid(fake: torch.Tensor, real: torch.Tensor, extractor: str, dataset: str, device=None) -> tuple[float, str]:
    try:
        from ..metrics.extractors import get_extractor
        from ..metrics.image import frechet_distance
    except ImportError:
        raise UserError("FID needs ganforge.metrics.extractors, which this install lacks") from None
    ex = get_extractor(extractor, tuple(real.shape[1:]), dataset, device=device)
    return float(frechet_distance(ex.features(fake), ex.features(real))), ex.name
