"""A sweep's cells summarised per setting: median, worst and spread of each metric over the seeds
(or whatever axis is named as the repeat axis), wall time, failures; as sweep.json, a Markdown table
and a plot. Scores measured under different protocols are refused, never tabulated together."""
from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from ..files import atomic_write
from . import protocol as P

# Words that mark a metric where larger is better (FID, KID, MAE, MASE, losses: smaller is better).
HIGHER = {"is", "precision", "recall", "accuracy", "acc", "psnr", "ssim", "purity", "classes", "identity",
          "ratio", "r2", "coverage"}


def higher_is_better(metric: str) -> bool:
    """From the words of the name: AtoB_psnr_truth, "psnr_y srresnet", label_acc, test_mase, fid."""
    return any(word in HIGHER for word in re.split(r"[_ /]+", metric.lower()))


def machine() -> dict:
    """The CPU that made these figures, and whether it computes bf16 natively (AMX / AVX-512 BF16)."""
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("", platform.machine(), platform.processor()):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"cpu": name, "amx": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags}


def rows(cells: list[dict], repeat: str = "seed") -> list[dict]:
    """One row per setting without the `repeat` axis: per metric median / worst / spread over the
    row's finished cells, median wall seconds, and how many cells failed."""
    ok = [c for c in cells if c.get("status") == "ok"]
    P.check_same([(c["name"], c.get("protocol")) for c in ok], "scores")
    groups: dict[str, list[dict]] = {}
    for c in cells:
        key = json.dumps({k: v for k, v in c["setting"].items() if k != repeat})
        groups.setdefault(key, []).append(c)
    out = []
    for key, group in groups.items():
        good = [c for c in group if c.get("status") == "ok"]
        metrics = {}
        for m in ordered(good[0]["metrics"] if good else {}):
            values = [c["metrics"][m] for c in good if m in c["metrics"]]
            worst = min(values) if higher_is_better(m) else max(values)
            metrics[m] = {"median": statistics.median(values), "worst": worst, "spread": max(values) - min(values),
                          "values": values}
        worst_cell = None
        if good and metrics:
            first = next(iter(metrics))
            pick = min if higher_is_better(first) else max
            worst_cell = pick(good, key=lambda c: c["metrics"][first])["name"]
        out.append({"setting": json.loads(key), "cells": len(group), "failed": len(group) - len(good),
                    "errors": [c.get("error") for c in group if c.get("status") != "ok"],
                    "precision": sorted({str(c.get("precision")) for c in group}),
                    "wall_s": statistics.median([c["wall_s"] for c in group]), "worst_cell": worst_cell,
                    "metrics": metrics})
    return out


# a GAN table's columns before the rest (IS, ...): FID (a video family's clip-FD), then what a
# conditional family's goal is about; a video table's reference rows (static, shuffled clips) next;
# a CycleGAN's translations against a known truth before its cycle reconstructions
FIRST = ("fid", "clip_fd", "label_acc", "code_purity", "code_classes", "kid", "precision", "recall",
         "clip_fd_static", "clip_fd_shuffled", "motion_ratio", "identity",
         "AtoB_ssim_truth", "BtoA_ssim_truth", "AtoB_psnr_truth", "BtoA_psnr_truth")


def ordered(names) -> list[str]:
    """Metric names in the order a table shows them (FIRST, then the rest as they came); the first
    one also picks a row's worst cell and is the one plotted."""
    return sorted(names, key=lambda m: FIRST.index(m) if m in FIRST else len(FIRST))


def markdown(table: list[dict], header: str, limit: int = 5) -> str:
    """The table: setting, precision used, seeds, then median / worst / spread of up to `limit`
    metrics (all of them stay in sweep.json)."""
    names = ordered(dict.fromkeys(m for r in table for m in r["metrics"]))[:limit]
    head = ["setting", "precision", "cells (failed)"]
    for m in names:
        head += [f"{m} median", f"{m} worst", f"{m} spread"]
    head.append("wall s (median)")
    lines = [header, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table:
        setting = ", ".join(f"{k}={v}" for k, v in r["setting"].items()) or "(default)"
        cols = [setting, "/".join(r["precision"]), f"{r['cells']} ({r['failed']})"]
        for m in names:
            s = r["metrics"].get(m)
            cols += [f"{s['median']:.4g}", f"{s['worst']:.4g}", f"{s['spread']:.3g}"] if s else ["—"] * 3
        cols.append(f"{r['wall_s']:.0f}")
        lines.append("| " + " | ".join(cols) + " |")
    for r in table:
        for e in r["errors"]:
            lines.append(f"\nfailed in {r['setting']}: {e}")
    return "\n".join(lines) + "\n"


def plot(table: list[dict], path: Path) -> None:
    """Each row's cells as dots and its median as a bar, for the first metric."""
    from ..viz import _plt

    names = ordered(dict.fromkeys(m for r in table for m in r["metrics"]))
    if not names:
        return
    m = names[0]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(table) + 2), 3.5))
    labels = [", ".join(f"{k}={v}" for k, v in r["setting"].items()) or "(default)" for r in table]
    for i, r in enumerate(table):
        s = r["metrics"].get(m)
        if s:
            ax.bar(i, s["median"], color="C0", alpha=0.35)
            ax.plot([i] * len(s["values"]), s["values"], "o", color="C0")
    ax.set_xticks(range(len(table)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(f"{m} ({'higher' if higher_is_better(m) else 'lower'} is better)")
    ax.set_title("bars: median; dots: each cell")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(out: Path, sweep_info: dict, cells: list[dict]) -> tuple[list[dict], str]:
    """sweep.json, sweep.md and sweep.png in `out`; returns (rows, Markdown)."""
    table = rows(cells)
    mach = machine()
    bf16 = "AMX" if mach["amx"] else "AVX-512 BF16" if mach["avx512_bf16"] else "no native bf16"
    header = (f"## ganforge sweep {sweep_info['task']} {' '.join(sweep_info['train_args'])}\n\n"
              f"CPU: {mach['cpu']} ({bf16}); {sweep_info['threads']} thread(s) per cell, {sweep_info['jobs']} at once. "
              "worst = the worst seed of the row; spread = max - min.")
    md = markdown(table, header)
    doc = {**sweep_info, "machine": mach, "cells": cells, "rows": table}
    atomic_write(out / "sweep.json", lambda f: f.write(json.dumps(doc, indent=2).encode() + b"\n"))
    atomic_write(out / "sweep.md", lambda f: f.write(md.encode()))
    plot(table, out / "sweep.png")
    return table, md
