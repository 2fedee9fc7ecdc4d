"""ganforge models / datasets / presets: what is available."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "models", "list the registered models", "ganforge models --params")
    p.add_argument("--params", action="store_true", help="also count parameters (at each model's example size)")
    p.add_argument("--kind", help="only models of this kind (gan, classifier, translator, ...)")
    p.set_defaults(func=_models)

    p = add_command(sub, "datasets", "list datasets and whether they are embedded, cached or not downloaded; "
                    "download one; pack a folder of images into memory-mapped shards",
                    "ganforge datasets\nganforge datasets download fashion-mnist\n"
                    "ganforge datasets pack folder:photos/ -o photos-packed/ --size 256\n"
                    "ganforge train gan --data packed:photos-packed/ --image-size 64")
    p.add_argument("action", nargs="?", choices=["download", "pack"], help="download a dataset into the cache, or "
                   "pack folder:PATH (resized once, uint8 .npy shards + labels + manifest) for --data packed:DIR")
    p.add_argument("name", nargs="?", help="dataset to download, or folder:PATH to pack")
    p.add_argument("-o", "--output", metavar="DIR", help="pack: the folder to write")
    p.add_argument("--size", type=int, default=256, help="pack: square side the images are resized to (default 256)")
    p.add_argument("--channels", type=int, default=3, choices=[1, 3], help="pack: 1 (gray) or 3 (default 3)")
    p.add_argument("--workers", type=int, default=None, help="pack: decoding processes (default: up to 4)")
    p.add_argument("--strict", action="store_true", help="pack: stop at the first unreadable image")
    p.set_defaults(func=_datasets)

    p = add_command(sub, "presets", "list the GAN presets (settings that work for a model and kind of data)",
                    "ganforge presets\nganforge train gan --preset dcgan-mnist --steps 3000")
    p.set_defaults(func=_presets)


def _presets(args) -> int:
    from ..config.presets import PRESETS

    for name, p in PRESETS.items():
        print(f"{name:<14} {'/'.join(p['models']):<12} {p['summary']}")
        print(" " * 28 + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p["values"].items()))
    return 0


def _models(args) -> int:
    from .. import models

    rows = models.entries(args.kind)
    if not rows:
        from ..errors import UserError

        raise UserError(f"no models of kind {args.kind!r}; kinds: {', '.join(sorted({e.kind for e in models.entries()}))}")
    for e in rows:
        extra = ""
        if args.params:
            built = e.build(**e.example)
            shape = e.example.get("image_shape")
            extra = f"{models.count_params(built):>12,d}  " + (f"at {'x'.join(map(str, shape))}  " if shape else "")
        print(f"{e.name:<14} {e.kind:<14} {extra}{e.summary}")
    return 0


def _datasets(args) -> int:
    from ..data import datasets, download
    from ..errors import UserError

    if args.action == "download":
        if not args.name:
            raise UserError("which dataset? e.g. ganforge datasets download mnist")
        print(f"{args.name}: {datasets.download_dataset(args.name)}")
        return 0
    if args.action == "pack":
        return _pack(args)
    print(f"cache: {download.cache_dir()}  (set ${download.CACHE_ENV} to move it)")
    for name in datasets.NAMED:
        print(f"{name:<16} {datasets.status(name):<15} {datasets.DESCRIPTIONS[name]}")
    print(f"{'folder:PATH':<16} {'local':<15} any folder of images (sub-folders become classes)")
    print(f"{'synthetic:CxHxW':<16} {'generated':<15} random images, for smoke tests and benchmarks")
    print(f"{'packed:DIR':<16} {'local':<15} a folder packed by `ganforge datasets pack`, memory-mapped")
    return 0


def _pack(args) -> int:
    import time
    from pathlib import Path

    from ..config.base import ImageRunConfig
    from ..data.packed import pack_folder
    from ..errors import UserError
    from ..resources import human

    if not args.name or not args.output:
        raise UserError("pack what, where? e.g. ganforge datasets pack folder:photos/ -o photos-packed/")
    if not 8 <= args.size <= 4096:
        raise UserError(f"--size must be in 8..4096, got {args.size}")
    workers = ImageRunConfig.workers if args.workers is None else args.workers
    if not 0 <= workers <= 256:
        raise UserError(f"--workers must be in 0..256, got {workers}")
    folder = Path(args.name.removeprefix("folder:"))
    t0 = time.perf_counter()
    m = pack_folder(folder, Path(args.output), args.size, args.channels, workers, args.strict)
    nbytes = m["count"] * args.channels * args.size ** 2
    print(f"packed {m['count']:,} images of {args.channels}x{args.size}x{args.size} ({human(nbytes)}) from {folder} "
          f"into {args.output} in {len(m['shards'])} shard(s), {time.perf_counter() - t0:.1f} s"
          + (f", {len(m['classes'])} classes" if m["classes"] else "") + (f"; skipped {m['skipped']}" if m["skipped"]
                                                                          else ""))
    print(f"use it with: --data packed:{args.output}")
    return 0
