"""Where `--precision auto` may train a GAN family (or CycleGAN) in bf16 on a CPU: only where a
sweep over seeds found bf16's median classifier-FID (or the family's own figure, such as SSIM)
inside fp32's range over the same seeds (or better than all of it), and no bf16 seed worse than
fp32's worst, on that kind of bf16 hardware. The second condition is stricter than the median
alone: a bf16 run that wrecks one seed in three costs quality even when its median looks fine
(mlp-mnist on AMX below: median 37.6, one seed at 147).

CPUs compute bf16 two ways, with different numerics (oneDNN picks other kernels): AMX tiles (Intel
Xeon since Sapphire Rapids) and AVX-512 BF16 alone (AMD EPYC Zen 4, older Xeons). A verdict for one
says nothing about the other, and a family or path nobody has measured trains in fp32. GPUs are not
in this table: nothing here was measured on one, so `auto` there stays bf16 / fp16 as before.
"""
from __future__ import annotations

import statistics

from .presets import BF16_SWEEPS as MEASURED  # the measured sweeps: data beside the presets they measured


def _verdict(sweep: dict) -> tuple[bool, str]:
    sign = -1 if sweep.get("higher_is_better") else 1   # SSIM: compare the negated figures
    bf16, fp32 = [sign * v for v in sweep["bf16"]], [sign * v for v in sweep["fp32"]]
    median, bf16_worst, fp32_worst = statistics.median(bf16), max(bf16), max(fp32)
    ok = median <= fp32_worst and bf16_worst <= fp32_worst
    return ok, (f"{sweep.get('metric', 'classifier-FID')} {sign * median:.3g} median / {sign * bf16_worst:.3g} worst "
                f"in bf16 against fp32's worst seed {sign * fp32_worst:.3g}")


def cpu_bf16_allowed(family: str, path: str | None) -> tuple[bool, str]:
    """(whether auto may pick bf16 for `family` on a CPU whose bf16 path is `path`, why)."""
    if path is None:
        return False, "no native bf16 on this CPU"
    sweeps = [m for m in MEASURED.get(family, {}).get(path, []) if m["fp32"] and m["bf16"]]
    if not sweeps:
        return False, f"no sweep has compared bf16 with fp32 for {family} on {path.upper()} CPUs yet"
    verdicts = [_verdict(m) for m in sweeps]
    bad = [why for ok, why in verdicts if not ok]
    if bad:
        return False, f"for {family} on {path.upper()} CPUs a sweep gave {bad[0]}"
    return True, f"for {family} on {path.upper()} CPUs {len(sweeps)} sweep(s) gave bf16 no worse: {verdicts[-1][1]}"
