"""Training throughput of ganforge's convgan against the CIFAR-10 article's own loop, side by side.

    .venv/bin/python benchmarks/gan_step.py [--steps 30] [--rounds 3] [--batch-size 32]

"article" re-implements the seed article's loop faithfully (it cannot use torchvision here, so
ToTensor/Normalize are written out the way torchvision does them): a Dataset that turns each
uint8 sample into a PIL image, then into a float tensor, then normalises it; a DataLoader
(batch 32, shuffle, no workers); D ends in a Sigmoid with nn.BCELoss; the generator runs twice
per step (once for the D update, once again for the G update).

"ganforge" is `ganforge train gan --model convgan --data synthetic:3x32x32` with the same layers:
uint8 batches sliced from memory, one generator pass per step, BCE on logits, channels_last;
then the same with --precision bf16.

The variants run in interleaved rounds so machine noise hits all of them alike; each figure is
the median over rounds. Not part of `make test`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from ganforge.config import GANConfig
from ganforge.data import ImageData
from ganforge.models.convgan import ConvDiscriminator
from ganforge.tasks.gan import GANObjective
from ganforge.engine.runtime import native_bf16


class SigmoidD(nn.Module):
    """The article's D: ganforge's ConvDiscriminator layers ending in a Sigmoid (for nn.BCELoss)."""

    def __init__(self):
        super().__init__()
        self.d = ConvDiscriminator((3, 32, 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.d(x)["adv"])


class ArticleDataset(torch.utils.data.Dataset):
    """CIFAR10-style: uint8 HWC arrays, PIL per sample, ToTensor + Normalize per sample."""

    def __init__(self, array: np.ndarray):
        self.array = array

    def __len__(self):
        return len(self.array)

    def __getitem__(self, i):
        img = Image.fromarray(self.array[i])
        x = torch.from_numpy(np.array(img, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
        x = x.float().div(255)                                      # ToTensor
        mean = torch.tensor([0.5, 0.5, 0.5]).view(3, 1, 1)
        x = x.sub_(mean).div_(torch.tensor([0.5, 0.5, 0.5]).view(3, 1, 1))   # Normalize
        return x, 0


def article_generator(latent_dim: int = 100) -> nn.Module:
    """The article's generator exactly: separate nn.Upsample and nn.Conv2d layers."""
    return nn.Sequential(
        nn.Linear(latent_dim, 128 * 8 * 8), nn.ReLU(), nn.Unflatten(1, (128, 8, 8)),
        nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128, momentum=0.78), nn.ReLU(),
        nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64, momentum=0.78), nn.ReLU(),
        nn.Conv2d(64, 3, 3, padding=1), nn.Tanh(),
    )


class ArticleLoop:
    def __init__(self, array: np.ndarray, batch_size: int, latent_dim: int = 100):
        torch.manual_seed(0)
        self.G = article_generator(latent_dim)
        self.D = SigmoidD()
        self.loss = nn.BCELoss()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loader = torch.utils.data.DataLoader(ArticleDataset(array), batch_size=batch_size, shuffle=True,
                                                  drop_last=True)
        self.it = iter(self.loader)
        self.latent_dim = latent_dim

    def step(self):
        try:
            real, _ = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            real, _ = next(self.it)
        n = real.size(0)
        valid, fake = torch.ones(n, 1), torch.zeros(n, 1)
        self.opt_d.zero_grad()
        z = torch.randn(n, self.latent_dim)
        fake_images = self.G(z)
        real_loss = self.loss(self.D(real).view(n, 1), valid)
        fake_loss = self.loss(self.D(fake_images.detach()).view(n, 1), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        gen_images = self.G(z)
        g_loss = self.loss(self.D(gen_images).view(n, 1), valid)
        g_loss.backward()
        self.opt_g.step()
        return d_loss.item(), g_loss.item()


def ganforge_step_fn(images: torch.Tensor, batch_size: int, precision: str, channels_last: bool):
    cfg = GANConfig(model="convgan", batch_size=batch_size, precision=precision, channels_last=channels_last,
                    progress=False)
    torch.manual_seed(0)
    obj = GANObjective(cfg, data=ImageData("synthetic:3x32x32", images))
    counter = iter(range(10**9))
    return lambda: obj.train_step(next(counter))


def time_steps(fn, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=30, help="timed steps per variant per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--images", type=int, default=2048)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    images = torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()
    variants = {
        "article (PIL per sample, G twice, BCE on sigmoid)": ArticleLoop(array, args.batch_size).step,
        "ganforge fp32": ganforge_step_fn(images, args.batch_size, "fp32", False),
        "ganforge fp32 channels_last": ganforge_step_fn(images, args.batch_size, "fp32", True),
        "ganforge bf16 channels_last": ganforge_step_fn(images, args.batch_size, "bf16", True),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"{args.rounds} rounds x {args.steps} steps; native bf16 on this CPU: {native_bf16()}")
    for fn in variants.values():   # warm-up (allocator, oneDNN kernels)
        time_steps(fn, 5)
    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times[name].append(time_steps(fn, args.steps))
    base = statistics.median(times[next(iter(variants))])
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:<52} {1000 * t:8.1f} ms/step {args.batch_size / t:8.0f} images/s  {base / t:5.2f}x")


if __name__ == "__main__":
    main()
