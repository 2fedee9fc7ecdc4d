"""How a score was measured, and the one rule about it: scores measured differently are never put
side by side (a sweep's table, best.pt selection, the serve dashboard).

A protocol is a flat dict. The fields in COMPARED change the number a model gets (another
extractor, layer, resize, sample count, reference set or noise seed gives another FID); the
others (raw G or EMA, the precision the run trained in) describe the model being scored, which
a sweep may vary on purpose, so they are recorded but not compared.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError

COMPARED = ("extractor", "extractor_sha256", "layer", "resize", "num_generated", "num_reference",
            "reference_split", "dataset", "seed", "precision")
SMALL_SAMPLE = 1000   # below this many generated images FID (and KID's spread) are biased / noisy


def generative(ext, num: int, num_real: int, dataset: str, seed: int, split: str = "train",
               weights: str | None = None) -> dict:
    """The protocol of FID / KID / IS / P&R of `num` images against `num_real` images of `dataset`."""
    return {"extractor": ext.name, "extractor_sha256": getattr(ext, "sha256", None),
            "layer": getattr(ext, "layer", None), "resize": getattr(ext, "resize", None),
            "num_generated": int(num), "num_reference": int(num_real), "reference_split": split,
            "dataset": dataset, "seed": int(seed), "precision": "fp32", "weights": weights}


def warn_small(num: int, where: str = "") -> None:
    """One line on stderr when FID / KID come from fewer than SMALL_SAMPLE images."""
    import sys

    if num >= SMALL_SAMPLE:
        return
    print(f"warning: FID and KID{where} from {num} generated images (< {SMALL_SAMPLE:,}) are biased (FID upward) "
          "and noisy; compare them only with scores from the same number of images", file=sys.stderr)


def difference(a: dict | None, b: dict | None) -> str | None:
    """The first compared field in which protocols a and b differ, as 'field: A vs B'; None if they agree."""
    a, b = a or {}, b or {}
    for key in COMPARED:
        if a.get(key) != b.get(key):
            return f"{key}: {a.get(key)} vs {b.get(key)}"
    return None


def check_same(items: list[tuple[str, dict | None]], what: str = "scores") -> None:
    """UserError (one line naming the difference) unless every (label, protocol) agrees with the first."""
    if not items:
        return
    first_label, first = items[0]
    for label, proto in items[1:]:
        diff = difference(first, proto)
        if diff:
            raise UserError(f"refusing to put {what} of {first_label} and {label} side by side: they were "
                            f"measured differently ({diff}); evaluate both the same way (ganforge eval "
                            "--num/--extractor/--seed)")


def eval_path(checkpoint) -> Path:
    """Where `ganforge eval` writes a checkpoint's record: eval.json beside checkpoint.pt (a run
    directory means its checkpoint.pt), <name>.eval.json beside any other file (best.pt)."""
    p = Path(checkpoint)
    if p.is_dir() or p.name == "checkpoint.pt":
        return (p if p.is_dir() else p.parent) / "eval.json"
    return p.with_name(f"{p.stem}.eval.json")


def read_eval(checkpoint) -> dict | None:
    """The record eval_path(checkpoint) holds, or None."""
    try:
        value = json.loads(eval_path(checkpoint).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
