"""ganforge presets: list the GAN presets (settings that work for a model and kind of data)."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "presets", "list the GAN presets (settings that work for a model and kind of data)",
                    "ganforge presets\nganforge train gan --preset dcgan-mnist --steps 3000")
    p.set_defaults(func=_presets)


def _presets(args) -> int:
    from ..config.presets import PRESETS

    a = max(len(name) for name in PRESETS) + 1   # columns as wide as their longest entry
    b = max(len("/".join(p["models"])) for p in PRESETS.values()) + 1
    for name, p in PRESETS.items():
        print(f"{name:<{a}} {'/'.join(p['models']):<{b}} {p['summary']}")
        print(" " * (a + b + 2) + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p["values"].items()))
    return 0
