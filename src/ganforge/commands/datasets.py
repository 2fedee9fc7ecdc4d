"""ganforge datasets: list the datasets and their state; download one; pack a folder of images."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "datasets", "list datasets and whether they are embedded, cached or not downloaded; "
                    "download one; pack a folder of images into memory-mapped shards",
                    "ganforge datasets\nganforge datasets download fashion-mnist\n"
                    "ganforge datasets pack folder:photos/ -o photos-packed/ --size 256\n"
                    "ganforge train gan --data packed:photos-packed/ --image-size 64")
    p.add_argument("action", nargs="?", choices=["download", "pack"], help="download a dataset into the cache, or "
                   "pack folder:PATH (resized once, uint8 .npy shards + labels + manifest) for --data packed:DIR")
    p.add_argument("name", nargs="?", help="dataset to download, or folder:PATH to pack")
    p.add_argument("-o", "--output", metavar="DIR", help="pack: the folder to write")
    p.add_argument("--size", type=int, default=None, help="pack: square side the images are resized to (default: "
                                                          "the images' own size, or the folder's most common short "
                                                          "side)")
    p.add_argument("--channels", type=int, default=3, choices=[1, 3], help="pack: 1 (gray) or 3 (default 3)")
    p.add_argument("--workers", type=int, default=None, help="pack: decoding processes (default: up to 4)")
    p.add_argument("--strict", action="store_true", help="pack: stop at the first unreadable image")
    p.set_defaults(func=_datasets)


def _datasets(args) -> int:
    from ..data import datasets, download
    from ..errors import UserError

    if args.action == "download":
        if not args.name:
            raise UserError("which dataset? e.g. ganforge datasets download mnist")
        from ..data import unpaired

        if args.name in unpaired.REMOTE:
            print(f"{args.name}: {unpaired.download_remote(args.name)}")
            return 0
        if args.name not in datasets.REMOTE:
            from ..errors import did_you_mean

            raise did_you_mean("downloadable dataset", args.name, tuple(datasets.REMOTE) + unpaired.REMOTE)
        print(f"{args.name}: {datasets.download_dataset(args.name)}")
        return 0
    if args.action == "pack":
        return _pack(args)
    from ..data.catalog import catalog

    rows = catalog()
    print(f"cache: {download.cache_dir()}  (set ${download.CACHE_ENV} to move it)")
    a, b = max(len(d.name) for d in rows) + 1, max(len(", ".join(d.tasks)) for d in rows) + 1
    print(f"{'--data':<{a}} {'status':<15} {'train':<{b}} description")
    for d in rows:
        print(f"{d.name:<{a}} {d.status:<15} {', '.join(d.tasks):<{b}} {d.description}")
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
    if args.size is not None and not 8 <= args.size <= 4096:
        raise UserError(f"--size must be in 8..4096, got {args.size}")
    workers = ImageRunConfig.workers if args.workers is None else args.workers
    if not 0 <= workers <= 256:
        raise UserError(f"--workers must be in 0..256, got {workers}")
    folder = Path(args.name.removeprefix("folder:"))
    t0 = time.perf_counter()
    m = pack_folder(folder, Path(args.output), args.size, args.channels, workers, args.strict)
    size = m["shape"][-1]
    if args.size is None:
        print(f"size: {size} px, {m['size_rule']} (pass --size to resize)")
    nbytes = m["count"] * args.channels * size ** 2
    print(f"packed {m['count']:,} images of {args.channels}x{size}x{size} ({human(nbytes)}) from {folder} "
          f"into {args.output} in {len(m['shards'])} shard(s), {time.perf_counter() - t0:.1f} s"
          + (f", {len(m['classes'])} classes" if m["classes"] else "") + (f"; skipped {m['skipped']}" if m["skipped"]
                                                                          else ""))
    print(f"use it with: --data packed:{args.output}")
    return 0
