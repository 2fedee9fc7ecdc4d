"""ganforge presets: list the GAN presets (settings that work for a model and kind of data)."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "presets", "list the GAN presets (settings that work for a model and kind of data)",
                    "ganforge presets\nganforge train gan --preset dcgan-mnist --steps 3000")
    p.set_defaults(func=_presets)


def _presets(args) -> int:
    from ..config.presets import PRESETS

    for name, p in PRESETS.items():
        print(f"{name:<14} {'/'.join(p['models']):<12} {p['summary']}")
        print(" " * 28 + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p["values"].items()))
    return 0
