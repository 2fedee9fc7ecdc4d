"""Evaluate a generator (or any set of images) against the real training data it imitates.

Reference features of the real data are cached per dataset, extractor, image shape and count in
<cache>/fid-refs/, so repeated evaluations (and --eval-every during training) extract them once.
"""
from __future__ import annotations

import re

import torch

from ..files import atomic_write, cache_dir
from ..data.datasets import NAMED, ONE_SPLIT
from ..errors import UserError
from . import image as M
from . import protocol as P
from .extractors import Extractor, get_extractor

MAX_REFERENCE = 10_000


def reference_features(extractor: Extractor, dataset: str, image_shape, max_images: int = MAX_REFERENCE,
                       split: str = "train", data=None) -> torch.Tensor:
    """Features (N, D) of up to max_images real images of `dataset` converted to `image_shape`.
    data: those images loaded already (a training run's own ImageData), so they are not read again."""
    from ..data import load_images, to_float

    c, h, w = image_shape
    cacheable = dataset.partition(":")[0] not in ONE_SPLIT   # folders (and packs) can change under us
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{dataset}-{split}-{extractor.key}-{c}x{h}x{w}-{max_images}")
    path = cache_dir() / "fid-refs" / f"{safe}.pt"
    if cacheable and path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception:   # a corrupt cache file is rebuilt, not fatal
            pass
    if data is None or tuple(data.shape) != (c, h, w):
        data = load_images(dataset, split, c, h)
    images = data.images
    if len(images) > max_images:   # a fixed random subset, the same every time
        images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:max_images]]
    feats = torch.cat([extractor.features(to_float(x)) for x in images.split(500)])
    if cacheable:
        _save_atomic(path, feats)
    return feats


def _save_atomic(path, tensor: torch.Tensor) -> None:
    """A cache file written atomically; a cache that cannot be written is skipped (it only saves time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: torch.save(tensor, f))
    except OSError:
        pass


def evaluate_images(images: torch.Tensor, extractor: Extractor, real_feats: torch.Tensor,
                    labels: torch.Tensor | None = None, kid_subsets: int = 50, k: int = 3,
                    inception_score: bool = True, precision_recall: bool = True) -> dict:
    """Metrics of images (N, C, H, W) in [-1, 1] against real features (M, D).

    labels: the classes the images should show (a conditional generator's requests, or real
    labels); adds label_acc, how often the extractor's classifier recognises them."""
    extractor.check(images.shape[1:])
    if images.shape[0] < max(2, k + 1):
        raise UserError(f"need at least {max(2, k + 1)} images to evaluate, got {images.shape[0]}")
    feats = torch.cat([extractor.features(x) for x in images.split(500)])
    out = {"fid": M.frechet_distance(real_feats, feats)}
    out["kid"], out["kid_std"] = M.kernel_inception_distance(real_feats, feats, subsets=kid_subsets)
    logits = None
    if inception_score or labels is not None:
        logits = torch.cat([extractor.logits(x) for x in images.split(500)])
    if inception_score:
        out["is"], out["is_std"] = M.inception_score(logits)
    if precision_recall:
        out["precision"], out["recall"] = M.precision_recall(real_feats, feats, k)
    if labels is not None:
        out["label_acc"] = (logits.argmax(1) == labels).float().mean().item()
    return out


def evaluate_generator(generator, num: int = 10_000, extractor: str | Extractor = "auto",
                       dataset: str | None = None, seed: int = 0, kid_subsets: int = 50,
                       full: bool = True, real: torch.Tensor | None = None, warn: bool = True) -> dict:
    """Sample `num` images from generator (.sample(n, seed=...), .image_shape, .meta["dataset"])
    and score them against that dataset's training images.

    full=False skips IS and precision/recall (the cheap set for --eval-every); real: the reference
    features computed already (a training run computes them once); warn=False leaves out the
    small-sample warning (a run in training says it once).
    Returns {"extractor": label, "num": n, "num_real": m, "fid", "kid", "kid_std", ..., "protocol":
    how it was measured (metrics.protocol)}."""
    if num < 2:
        raise UserError(f"--num must be at least 2, got {num}")
    if warn:
        P.warn_small(num)
    shape = tuple(generator.image_shape)
    dataset = dataset or generator.meta.get("dataset")
    if not dataset or dataset.startswith("synthetic:"):
        raise UserError(f"this generator was trained on {dataset or 'an unknown dataset'}: there is no real data "
                        "to compare its samples with")
    ext = (extractor if isinstance(extractor, Extractor)   # on the generator's device, like its sampling
           else get_extractor(extractor, shape, dataset, device=getattr(generator, "device", None)))
    real = reference_features(ext, dataset, shape) if real is None else real
    labels = None
    num_classes = getattr(generator, "num_classes", 0)
    if num_classes:   # conditional: ask for every class equally often
        labels = torch.arange(num) % num_classes
        images = generator.sample(num, seed=seed, labels=labels)
    else:
        images = generator.sample(num, seed=seed)
    if labels is not None and getattr(ext, "classes", None) is None:
        labels = None   # Inception's 1008 classes are not the generator's
    metrics = evaluate_images(images, ext, real, labels, kid_subsets, inception_score=full, precision_recall=full)
    if full and labels is not None:
        metrics.update(per_class_fid(ext, images, labels, dataset, shape, getattr(generator, "classes", None)))
    if full and hasattr(generator, "hooks"):   # the family's own figures (InfoGAN: code purity)
        metrics.update(generator.hooks.eval_extras(generator, ext, seed=seed))
    protocol = P.generative(ext, num, len(real), dataset, seed, weights=getattr(generator, "weights", None))
    return {"extractor": ext.name, "num": num, "num_real": len(real), "dataset": dataset, **metrics,
            "protocol": protocol}


def per_class_fid(ext: Extractor, images: torch.Tensor, labels: torch.Tensor, dataset: str, shape,
                  classes: list[str] | None = None) -> dict[str, float]:
    """FID of each class's generated images against that class's real training images
    ("fid/<class>") and their mean ("fid_class_mean")."""
    from ..data import load_images, to_float

    c, h, _ = shape
    real = load_images(dataset, "train", c, h)
    if real.labels is None:
        return {}
    out = {}
    for k in labels.unique().tolist():
        fake_k, real_k = images[labels == k], real.images[real.labels == k][:MAX_REFERENCE // 10]
        if len(fake_k) < 2 or len(real_k) < 2:
            continue
        f = torch.cat([ext.features(x) for x in fake_k.split(500)])
        r = torch.cat([ext.features(to_float(x)) for x in real_k.split(500)])
        out[f"fid/{classes[k] if classes else k}"] = M.frechet_distance(r, f)
    if out:
        out["fid_class_mean"] = sum(out.values()) / len(out)
    return out


def evaluate_real(dataset: str, extractor: str | Extractor = "auto", num: int | None = None, device=None) -> dict:
    """The floor of every metric: the dataset's held-out split scored like a generator's samples
    against its training split. FID near 0, label accuracy = the classifier's test accuracy."""
    from ..data import load_images, to_float

    if dataset.partition(":")[0] in ONE_SPLIT:
        raise UserError(f"--images needs a dataset with a held-out split ({', '.join(NAMED)}), got {dataset}")
    test = load_images(dataset, "test")
    if num is not None:
        if num < 2:
            raise UserError(f"--num must be at least 2, got {num}")
        keep = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:num]   # test sets may be sorted
        test = type(test)(test.name, test.images[keep], test.labels[keep], test.classes)
    ext = (extractor if isinstance(extractor, Extractor)
           else get_extractor(extractor, test.shape, dataset, device=device))
    real = reference_features(ext, dataset, test.shape)
    labels = test.labels if getattr(ext, "classes", None) == test.classes else None
    P.warn_small(len(test))
    metrics = evaluate_images(to_float(test.images), ext, real, labels)
    protocol = {**P.generative(ext, len(test), len(real), dataset, 0, weights="held-out real images")}
    return {"extractor": ext.name, "num": len(test), "num_real": len(real), "dataset": dataset,
            "real_vs_real": 1, **metrics, "protocol": protocol}
