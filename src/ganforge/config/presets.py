"""Presets as data: settings that work for a model family on a kind of data, chosen by measurement
(figures from a 2-core Intel Xeon, classifier-FID of the shipped mnist5k classifier; more in the
README). A preset sits below --config, flags and --set; `ganforge presets` lists them."""
from __future__ import annotations

DEFAULT_MODEL = "dcgan"   # the GAN family `train gan` trains without --model

PRESETS: dict[str, dict] = {
    "cgan-mnist": {
        "models": ("cgan",),
        "summary": "conditional DCGAN, projection D, EMA of G on labelled digits; the demo's preset "
                   "(2,500 steps: classifier-FID 7.5, 96.6% label accuracy)",
        "values": {"model": "cgan", "cond": "projection", "width": 32, "batch_size": 64, "ema": 0.999, "steps": 2500},
    },
    "acgan-mnist": {
        "models": ("acgan",),
        "summary": "ACGAN with EMA of G on labelled digits (15,000 steps, 5 min: classifier-FID 7.3, 98.9% label accuracy)",
        "values": {"model": "acgan", "width": 32, "batch_size": 64, "ema": 0.999, "steps": 15000},
    },
    "dcgan-mnist": {
        "models": ("dcgan", "lsgan"),
        "summary": "unconditional DCGAN on digit sets: 2 G steps per D step, EMA of G (1,000 steps, seeds 0-2, "
                   "2,000 samples, Intel Xeon AMX: classifier-FID median 104.5 / worst 117.0 in bf16, which auto "
                   "picks there, fp32 106.0 / 118.4; one older run: 8,000 steps 51)",
        "values": {"model": "dcgan", "width": 32, "batch_size": 64, "g_steps": 2, "ema": 0.999, "steps": 3000},
    },
    "mlp-mnist": {
        "models": ("mlp",),
        # lr 4e-4 for 6,000 steps, not 8e-4 for 3,000: over seeds 0-2 (fp32, Intel Xeon AMX) the old recipe
        # gave 53.5 / 58.5 median / worst, this one 20.1 / 21.1 (`ganforge sweep gan --preset mlp-mnist
        # --precision fp32 --steps 6000 --eval-every 1000 --grid seed=0,1,2 lr=4e-4 --eval-num 2000`)
        "summary": "the MNIST article's MLP GAN (2 G steps per D step, batch 32) with the least-squares loss, "
                   "lr 4e-4 and EMA of G (6,000 steps, seeds 0-2, 2,000 samples, Intel Xeon AMX: classifier-FID "
                   "median 20.1 / worst 21.1 in fp32, which auto picks; bf16 19.0 / 22.2)",
        "values": {"model": "mlp", "batch_size": 32, "g_steps": 2, "ema": 0.999, "loss": "lsgan", "lr": 4e-4,
                   "steps": 6000},
    },
    "infogan-mnist": {
        "models": ("infogan",),
        "summary": "InfoGAN with the paper's faster G (lr 1e-3), 62 noise dims, continuous codes at weight 0.1, "
                   "EMA, and a categorical code that ignores warps and clusters real digits (--info-warp 2 "
                   "--info-real 1) (6,000 steps, 3.6 min: code purity 0.82-0.94 over 5 runs, 9-10 digits)",
        "values": {"model": "infogan", "width": 32, "batch_size": 64, "lr_g": 1e-3, "ema": 0.999, "latent_dim": 62,
                   "cont_weight": 0.1, "info_warp": 2.0, "info_real": 1.0, "steps": 6000},
    },
    "videogan-digits": {
        "models": ("videogan",),
        "summary": "video GAN on moving mnist5k digits (4,808 steps: 93.3% of frames keep the digit, motion 0.60 "
                   "of the real clips')",
        "values": {"model": "videogan", "data": "moving-mnist", "width": 16, "latent_dim": 64, "batch_size": 16,
                   "g_steps": 2, "ema": 0.999, "steps": 5000},
    },
    "dcgan-folder": {
        "models": ("dcgan", "lsgan"),
        "summary": "DCGAN on a small folder (hundreds of images): adaptive augmentation, EMA of G "
                   "(500 digits, 3,000 steps: classifier-FID 8.6)",
        "values": {"model": "dcgan", "width": 32, "batch_size": 32, "augment": "ada", "ema": 0.999, "steps": 3000},
    },
}
