"""ganforge models / datasets / presets: what is available."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "models", "list the registered models", "ganforge models --params")
    p.add_argument("--params", action="store_true", help="also count parameters (at each model's example size)")
    p.add_argument("--kind", help="only models of this kind (gan, classifier, translator, ...)")
    p.set_defaults(func=_models)

    p = add_command(sub, "datasets", "list datasets and whether they are embedded, cached or not downloaded",
                    "ganforge datasets\nganforge datasets download fashion-mnist")
    p.add_argument("action", nargs="?", choices=["download"], help="download a dataset into the cache")
    p.add_argument("name", nargs="?", help="dataset to download")
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
    from ..data import download, images
    from ..errors import UserError

    if args.action == "download":
        if not args.name:
            raise UserError("which dataset? e.g. ganforge datasets download mnist")
        print(f"{args.name}: {images.download_dataset(args.name)}")
        return 0
    print(f"cache: {download.cache_dir()}  (set ${download.CACHE_ENV} to move it)")
    for name in images.NAMED:
        print(f"{name:<16} {images.status(name):<15} {images.DESCRIPTIONS[name]}")
    print(f"{'folder:PATH':<16} {'local':<15} any folder of images (sub-folders become classes)")
    print(f"{'synthetic:CxHxW':<16} {'generated':<15} random images, for smoke tests and benchmarks")
    return 0
