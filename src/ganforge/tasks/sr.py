"""The super-resolution task (`ganforge train sr`): SRResNet and SRGAN (Ledig et al. 2017).

Each step cuts random HR crops (--crop) from the training images, makes their LR versions by
antialiased bicubic downscaling (data.paired), and updates

    srresnet   G on the content loss (pixel MSE by default)
    srgan      G on content + adv_weight * the non-saturating adversarial loss of D(G(lr)),
               then D on the standard GAN loss of real HR crops against G(lr)

Adam(lr, (beta1, 0.999)); the learning rate halves at 50% and 75% of the steps. SRGAN starts
from a trained SRResNet (--init), as in the paper; the run log says which content loss it uses.

Why this step is not GANObjective's with c = the low-resolution image: the nets already keep the
contract (G(lr) -> sr, D(x) -> {"adv"}) and the losses are the shared losses.g_loss / d_loss, but
the step differs in what matters for its figures. SRGAN updates G first, on a content loss that
dominates the 1e-3 adversarial term, then D on that same G(lr) detached; GANObjective updates D
first and reuses its fake batch for G, draws noise and conditions, and adds augmentation, R1, EMA
and the collapse watch, none of which SRGAN uses. Its batches are (LR, HR) crop pairs, not images
and labels. Folding it in would change the order of updates, so every SR figure in the README
would have to be measured again; what it shares is shared at the level of nets and losses.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .. import models
from ..data import Batches, announce, to_float
from ..data.paired import (CropSampler, bicubic, crop_each, crop_generator, downscale, load_sr_images, mod_crop, pick,
                           random_crops, smallest_side)
from ..nn import checkpoint, losses
from ..engine.loop import Objective, RunDir, adam
from ..errors import UserError
from ..config import SRConfig
from ..models.loader import Loaded
from ..viz.panels import save_panel

PANEL = 4   # held-out crops in a sample panel


def build_nets(cfg) -> dict[str, torch.nn.Module]:
    """{"G": SRResNet} or, for srgan, {"G", "D"}: the objective and the loader both build through this."""
    nets = models.create(cfg.model, "sr", scale=cfg.scale, blocks=cfg.blocks, width=cfg.width, bn=cfg.bn,
                         image_skip=cfg.image_skip, d_width=cfg.d_width)
    return {"G": nets[0], "D": nets[1]} if isinstance(nets, tuple) else {"G": nets}


def lr_factor(step: int, steps: int) -> float:
    return 0.5 ** ((step >= steps // 2) + (step >= 3 * steps // 4))


def eval_images(cfg, progress: bool = True) -> tuple[str, list[torch.Tensor]]:
    """The held-out HR images (uint8 (3, H, W), sides cut to multiples of the scale) of --eval-data."""
    spec = cfg.eval_data or cfg.data
    if not cfg.eval_data and (spec.startswith(("folder:", "packed:")) or Path(spec).is_dir()):
        return "", []   # a folder has no held-out part of its own
    # Held-out images are scored whole, at their own sizes: in memory, whatever their size.
    data = load_sr_images(spec, "test", cfg.strict, 4 * cfg.scale, progress, memory=float("inf"))
    images = [mod_crop(img, cfg.scale) for img in data.images]
    return data.name, images[:cfg.eval_num] if cfg.eval_num else images


class SRObjective(Objective):
    task = "sr"
    best = ("psnr_y", "max")

    def __init__(self, cfg, rt=None, data=None):
        super().__init__(cfg, rt)
        rt = self.rt
        data = data if data is not None else load_sr_images(
            cfg.data, "train", cfg.strict, cfg.crop, rt.is_main, cfg.data_memory, cfg.stream, cfg.stream_size)
        self.data_name, self.images = data.name, data.images
        self.data_info = announce(data, cfg.workers, rt.is_main)
        # Streamed / packed squares are read per batch (ahead, by --workers) and cropped after.
        self.sampler = None if isinstance(self.images, (list, torch.Tensor)) else CropSampler(
            len(self.images), self.local_batch(), cfg.seed, self.rank)
        self.batches = self.sampler and Batches(self.images, None, self.sampler, cfg.workers)
        if smallest_side(self.images) < cfg.crop:
            raise UserError(f"--crop {cfg.crop} is larger than the smallest image of {cfg.data} "
                            f"({smallest_side(self.images)} px); lower --crop (a multiple of --scale {cfg.scale})")
        self.eval_name, self.eval_set = eval_images(cfg, rt.is_main)
        nets = {k: rt.prepare(v) for k, v in build_nets(cfg).items()}
        if cfg.init:
            init = checkpoint.load(cfg.init, "sr")
            checkpoint.load_module(nets["G"], init, "G")
        self.modules = nets
        self.G, self.D = nets["G"], nets.get("D")
        self.train_nets = {k: rt.wrap(v) for k, v in nets.items()}
        self.optimizers = {k: adam(v.parameters(), cfg.lr, (cfg.beta1, 0.999)) for k, v in nets.items()}
        kind = cfg.content_kind()
        from ..models.perceptual import content_loss

        self.content = content_loss(kind, log=self._log).to(rt.device)
        self._log(f"content loss: {self.content.name}" + (f"; adversarial weight {cfg.adv_weight}" if self.D else ""))

    def _log(self, msg: str) -> None:
        if self.rt.is_main:
            print(msg, flush=True)

    def pair(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(lr, hr) float batches in [-1, 1]: (B, 3, crop/s, crop/s) and (B, 3, crop, crop)."""
        g = crop_generator(self.cfg.seed, step, self.rank)
        if self.batches is None:
            hr = random_crops(self.images, self.local_batch(), self.cfg.crop, g)
        else:   # the same draws as random_crops: the batches' images (the sampler's pick), then the crops
            pick(len(self.images), self.local_batch(), g)
            hr = crop_each(self.batches.get(step)[0], self.cfg.crop, g)
        return to_float(self.rt.to(downscale(hr, self.cfg.scale))), to_float(self.rt.to(hr))

    def train_step(self, step: int) -> dict[str, float]:
        cfg, rt = self.cfg, self.rt
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = cfg.lr * lr_factor(step, cfg.steps)
        lr, hr = self.pair(step)
        G = self.train_nets["G"]
        if self.D is not None:
            self.D.requires_grad_(False)
        with self.autocast():
            sr = G(lr)
            content = self.content(sr, hr)
            loss = content
            if self.D is not None:
                adv = losses.g_loss("nonsaturating", self.D(sr)["adv"].float())
                loss = content + cfg.adv_weight * adv
        rt.update(self.optimizers["G"], loss)
        stats = {"content": content.item(), "lr": cfg.lr * lr_factor(step, cfg.steps)}
        if self.D is not None:
            self.D.requires_grad_(True)
            D = self.train_nets["D"]
            with self.autocast():
                real, fake = D(hr)["adv"].float(), D(sr.detach())["adv"].float()
                d_loss = losses.d_loss("nonsaturating", real, fake)
            rt.update(self.optimizers["D"], d_loss)
            stats.update(g_adv=adv.item(), d_loss=d_loss.item(), d_real=torch.sigmoid(real).mean().item(),
                         d_fake=torch.sigmoid(fake).mean().item())
        return stats

    def upscaler(self) -> "Upscaler":
        return Upscaler(nets={"G": self.G}, config=self.cfg, meta=self.meta(), path="(training)")

    @torch.no_grad()
    def snapshot(self, run: RunDir, step: int) -> None:
        if not self.eval_set:
            return
        side = min(smallest_side(self.eval_set), 96) // self.cfg.scale * self.cfg.scale
        hr = torch.stack([img[:, :side, :side] for img in self.eval_set[:PANEL]])
        lr = downscale(hr, self.cfg.scale)
        rows = [("LR", lr.repeat_interleave(self.cfg.scale, -1).repeat_interleave(self.cfg.scale, -2)),
                ("bicubic", bicubic(lr, self.cfg.scale)), (self.cfg.model, self.upscaler().upscale(lr)), ("HR", hr)]
        (run.path / "samples").mkdir(exist_ok=True)
        for path in (run.path / "samples" / f"step_{step:06d}.png", run.path / "samples.png"):
            save_panel([(label, to_float(x)) for label, x in rows], path)

    def evaluate(self, step: int) -> dict[str, float]:
        if not self.eval_set:
            return {}
        scores = score(self.upscaler(), self.eval_set)
        return {k: v for k, v in scores.items() if not k.startswith("bicubic")}

    def finish(self, run: RunDir) -> dict:
        from ..viz import plot_curves

        stats = [s for s in run.read_stats() if "content" in s]
        if stats:
            steps = [s["step"] for s in stats]
            keys = [k for k in ("content", "g_adv", "d_loss") if k in stats[0]]
            plot_curves({k: (steps, [s[k] for s in stats]) for k in keys}, run.path / "losses.png",
                        title=f"{self.cfg.model} losses", ylabel="loss")
        if not self.eval_set:
            return {}
        scores = score(self.upscaler(), self.eval_set)
        return {**scores, "verdict": sr_verdict(self.cfg.model, scores)}

    def meta(self) -> dict:
        return {"dataset": self.data_name, "channels": 3, "scale": self.cfg.scale, "content": self.content.name}


def build(cfg, rt=None) -> SRObjective:
    return SRObjective(cfg, rt)


# ----------------------------------------------------------------------------- using a checkpoint

class Upscaler(Loaded):
    """The generator of an sr checkpoint: upscale(uint8 (N, 3, h, w)) -> uint8 (N, 3, s*h, s*w)."""

    config_class = SRConfig

    @classmethod
    def card_io(cls, config, meta):
        return {"value_range": [-1, 1], "inputs": {"image": "(N, 3, H, W) float in [-1, 1]"},
                "outputs": {"image": "(N, 3, H', W') float in [-1, 1]"}}

    def build_nets(self, config, meta):
        return {"G": build_nets(config)["G"]}   # the objective's own builder: the same net that trained

    def setup(self, nets) -> None:
        self.net = nets["G"]
        self.scale = int(self.config.scale)

    def check_scale(self, scale: int | None) -> None:
        if scale is not None and scale != self.scale:
            raise UserError(f"{self.path} was trained for x{self.scale}, not x{scale}; "
                            f"use --scale {self.scale} or a checkpoint trained with --scale {scale}")

    @torch.no_grad()
    def upscale(self, lr: torch.Tensor, tile: int | None = None) -> torch.Tensor:
        """uint8 (N, 3, h, w), any h and w -> uint8 (N, 3, scale*h, scale*w). tile: run the net on
        tile x tile input parts with enough overlap (the net's receptive field) that the result
        equals the whole-image pass: memory is bounded by the tile, and no seams."""
        from ..data import to_uint8
        from ..nn.tiled import tiled_forward

        net = self.net
        was = net.training
        net.eval()
        try:
            x = to_float(self.to_device(lr))   # uint8 crosses to the GPU: a quarter of the float bytes
            if tile is None or max(x.shape[-2:]) <= tile:
                y = net(x)
            else:
                y = tiled_forward(net, x, tile, net.margin(), self.scale)
        finally:
            net.train(was)
        return to_uint8(y.float())   # on the CPU


LOADER = Upscaler


def load(ckpt: dict, device=None) -> Upscaler:
    return Upscaler(ckpt, device=device)


def score(up: Upscaler, images: list[torch.Tensor], tile: int | None = 128) -> dict[str, float]:
    """Mean PSNR / SSIM (Y with a border crop of the scale, and RGB) of `up` and of bicubic over HR
    images uint8 (3, H, W) with sides multiples of the scale: {psnr_y, ..., bicubic_psnr_y, ...}."""
    from ..metrics.sr import mean_scores, sr_scores

    ours, base = [], []
    for hr in images:
        lr = downscale(hr[None], up.scale)
        ours.append(sr_scores(up.upscale(lr, tile), hr[None], up.scale))
        base.append(sr_scores(bicubic(lr, up.scale), hr[None], up.scale))
    return {**mean_scores(ours), **{f"bicubic_{k}": v for k, v in mean_scores(base).items()}}


def sr_verdict(model: str, scores: dict) -> str:
    """Whether the net beats bicubic upsampling, its trivial baseline, on held-out PSNR-Y and SSIM-Y."""
    from ..metrics.translation import against_baseline

    return against_baseline(model, "bicubic on the held-out images",
                            [(f"{m} (dB)" if m == "PSNR-Y" else m, scores[k], scores[f"bicubic_{k}"])
                             for m, k in (("PSNR-Y", "psnr_y"), ("SSIM-Y", "ssim_y"))],
                            "train longer (more --steps); until then bicubic is the better upscaler")


def evaluate(ckpt: dict, data: str | None = None, device=None, **_) -> dict:
    """`ganforge eval` of an sr checkpoint: PSNR and SSIM on Y (BT.601, border crop = scale) and on
    RGB, next to bicubic, over the held-out images of --data (default: the training data's)."""
    up = Upscaler(ckpt, device=device)
    cfg = up.config
    name, images = eval_images(type(cfg)(**{**vars(cfg), "eval_data": data or cfg.eval_data, "eval_num": 0}))
    if not images:
        raise UserError(f"{cfg.data} has no held-out part of its own: pass --data folder:PATH of held-out images")
    s = score(up, images)
    out = {"held-out images": f"{len(images)} of {name}", "scale": f"x{up.scale}",
           "convention": f"Y: BT.601 luminance, {up.scale} px border cropped; RGB: same crop"}
    for metric in ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"):
        out[f"{metric} {cfg.model}"] = s[metric]
        out[f"{metric} bicubic"] = s[f"bicubic_{metric}"]
    return out
