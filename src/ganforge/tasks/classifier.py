"""The classifier task: cross-entropy on a labelled image dataset, accuracy on a held-out split.

Held-out split: the dataset's own test split (mnist5k: the last 100 images of each class;
mnist, fashion-mnist, cifar10: the official test sets); for folder:PATH a fixed stratified
--val-fraction of each class, drawn from --seed.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import models
from ..data import BatchSampler, Batches, ImageData, announce, load_images, to_float
from ..data.datasets import ONE_SPLIT
from ..data.source import take
from ..errors import UserError
from ..engine.loop import Objective, RunDir, adam
from ..models.evaluators import Classifier, build_net, predict_logits  # noqa: F401  (Classifier: this task's loader)


def split_data(cfg) -> tuple[ImageData, ImageData]:
    """(train, held-out) for cfg.data at cfg.channels / cfg.image_size."""
    kind = cfg.data.partition(":")[0]
    if kind in ONE_SPLIT:
        data = load_images(cfg.data, "train", cfg.channels, cfg.image_size, strict=cfg.strict,
                           memory=cfg.data_memory, stream=cfg.stream)
        if data.labels is None:
            raise UserError(f"{cfg.data} has no labels: a classifier needs one sub-folder per class "
                            "(folder:PATH/<class>/<image>)")
        g = torch.Generator().manual_seed(cfg.seed)
        held = torch.zeros(len(data), dtype=torch.bool)
        for c in range(len(data.classes)):
            idx = (data.labels == c).nonzero().flatten()
            n = max(1, round(len(idx) * cfg.val_fraction)) if len(idx) > 1 else 0
            held[idx[torch.randperm(len(idx), generator=g)[:n]]] = True
        pick = lambda m: ImageData(data.name, take(data.images, m), data.labels[m], data.classes,  # noqa: E731
                                   data.source, data.why)
        return pick(~held), pick(held)
    train = load_images(cfg.data, "train", cfg.channels, cfg.image_size)
    test = load_images(cfg.data, "test", cfg.channels, cfg.image_size)
    return train, test


def shift_flip(x: torch.Tensor, pad: int = 2, flip: bool = False, generator=None) -> torch.Tensor:
    """Random translation of each image by up to `pad` px (edge-replicated), optional h-flips."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n, 1), generator=generator).to(x.device)
    rows = dy + torch.arange(h, device=x.device)                            # (N, H)
    cols = dx + torch.arange(w, device=x.device)                            # (N, W)
    index = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[index, rows[:, :, None], cols[:, None, :]]
    out = out.permute(0, 3, 1, 2).contiguous()                              # (N, C, H, W)
    if flip:
        mask = (torch.rand(n, generator=generator) < 0.5).to(x.device)
        out[mask] = out[mask].flip(-1)
    return out


def confusion(pred: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """(K, K) counts: row = true class, column = predicted class."""
    return torch.bincount(labels * k + pred, minlength=k * k).view(k, k)


def accuracy_report(logits: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> dict:
    """accuracy, mean loss, per-class accuracy ("acc/<class>") and the confusion matrix."""
    pred = logits.argmax(1)
    cm = confusion(pred, labels, len(classes))
    per_class = cm.diag().float() / cm.sum(1).clamp_min(1).float()
    out = {"accuracy": (pred == labels).float().mean().item(), "loss": F.cross_entropy(logits, labels).item()}
    out.update({f"acc/{c}": v.item() for c, v in zip(classes, per_class)})
    out["confusion"] = cm
    return out


class ClassifierObjective(Objective):
    task = "classifier"
    best = ("val_acc", "max")

    def __init__(self, cfg, rt=None, data: tuple[ImageData, ImageData] | None = None):
        super().__init__(cfg, rt)
        rt = self.rt
        models.get(cfg.model, "classifier")   # fail on a bad name before loading data
        self.train_data, self.val_data = data if data is not None else split_data(cfg)
        if self.train_data.labels is None:
            raise UserError(f"{cfg.data} has no labels; a classifier needs a labelled dataset")
        if len(self.val_data) == 0:
            raise UserError(f"{cfg.data}: the held-out split is empty; add images or raise --val-fraction")
        self.classes = list(self.train_data.classes)
        self.image_shape = self.train_data.shape
        self.sampler = BatchSampler(len(self.train_data), self.local_batch(), cfg.seed, rt.rank, rt.world)
        self.images, self.labels = rt.place(self.train_data.images), rt.place(self.train_data.labels)
        self.batches = Batches(self.images, self.labels, self.sampler, cfg.workers)
        self.data_info = announce(self.train_data, cfg.workers, rt.is_main)
        self.net = rt.prepare(build_net(cfg.model, self.image_shape, len(self.classes), cfg.width))
        self.train_net = rt.wrap(self.net)
        self.modules = {"net": self.net}
        self.optimizers = {"net": adam(self.net.parameters(), cfg.lr, weight_decay=cfg.weight_decay, decoupled=True)}
        self.aug_gen = torch.Generator().manual_seed(cfg.seed + 1 + 7919 * rt.rank)

    def train_step(self, step: int) -> dict[str, float]:
        cfg, opt = self.cfg, self.optimizers["net"]
        for group in opt.param_groups:   # cosine decay, stateless so resume needs nothing
            group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        images, labels = self.batches.get(step)
        x, y = to_float(self.rt.to(images)), self.rt.to(labels)
        if cfg.augment:
            x = shift_flip(x, flip=self.image_shape[0] == 3, generator=self.aug_gen)
        self.net.train()
        with self.autocast():
            logits = self.train_net(x).float()
        loss = F.cross_entropy(logits, y)
        self.rt.update(opt, loss)
        return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}

    def evaluate(self, step: int) -> dict[str, float]:
        r = accuracy_report(predict_logits(self.net, self.val_data.images), self.val_data.labels, self.classes)
        return {"val_acc": r["accuracy"], "val_loss": r["loss"]}

    def finish(self, run: RunDir) -> dict:
        from ..viz import plot_curves, smooth
        from ..viz.plots import plot_confusion

        r = accuracy_report(predict_logits(self.net, self.val_data.images), self.val_data.labels, self.classes)
        plot_confusion(r.pop("confusion"), self.classes, run.path / "confusion.png",
                       f"{self.cfg.model} on {self.val_data.name} held-out ({len(self.val_data)} images): "
                       f"{100 * r['accuracy']:.1f}%")
        stats = run.read_stats()
        train = [(s["step"], s["loss"]) for s in stats if "loss" in s]
        val = [(s["step"], s["val_loss"]) for s in stats if "val_loss" in s]
        if train:
            series = {"train loss (smoothed)": ([s for s, _ in train], smooth([v for _, v in train], 25))}
            if val:
                series["held-out loss"] = ([s for s, _ in val], [v for _, v in val])
            plot_curves(series, run.path / "losses.png", title=f"{self.cfg.model} on {self.cfg.data}", ylabel="loss")
        return {"val_acc": r.pop("accuracy"), "val_loss": r.pop("loss"), **r}

    def meta(self) -> dict:
        return {"image_shape": list(self.image_shape), "dataset": self.train_data.name, "classes": self.classes}


def build(cfg, rt=None) -> ClassifierObjective:
    return ClassifierObjective(cfg, rt)


LOADER = Classifier


def load(ckpt: dict, device=None) -> Classifier:
    return Classifier(ckpt, device=device)


def evaluate(ckpt: dict, data: str | None = None, num: int | None = None, extractor: str | None = None,
             device=None, **_ignored) -> dict:
    """Accuracy, loss and per-class accuracy on the held-out split of `data` (default: the
    training dataset); num limits the number of images."""
    if extractor is not None:
        raise UserError("--extractor applies to generators; a classifier is evaluated by its accuracy")
    clf = Classifier(ckpt, device=device)
    spec = data or clf.dataset
    c, size, _ = clf.image_shape
    test = load_images(spec, "test" if spec.partition(":")[0] not in ONE_SPLIT else "train", c, size)
    if test.labels is None:
        raise UserError(f"{spec} has no labels to measure accuracy against")
    if test.classes != clf.classes:
        raise UserError(f"{spec} has classes {test.classes}, the classifier was trained on {clf.classes}")
    if num:
        keep = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:num]   # test sets may be sorted
        test = ImageData(test.name, test.images[keep], test.labels[keep], test.classes)
    r = accuracy_report(clf.logits(test.images), test.labels, clf.classes)
    r.pop("confusion")
    return {"classifier": clf.name, "images": len(test), **r}
