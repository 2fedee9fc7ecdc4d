"""Where `--precision auto` may train a GAN family in bf16 on a CPU: only where a sweep over seeds
found bf16's median classifier-FID inside fp32's range over the same seeds (or better than all of
it), and no bf16 seed worse than fp32's worst, on that kind of bf16 hardware. The second condition
is stricter than the median alone: a bf16 run that wrecks one seed in three costs quality even
when its median looks fine (mlp-mnist on AMX below: median 37.6, one seed at 147).

CPUs compute bf16 two ways, with different numerics (oneDNN picks other kernels): AMX tiles (Intel
Xeon since Sapphire Rapids) and AVX-512 BF16 alone (AMD EPYC Zen 4, older Xeons). A verdict for one
says nothing about the other, and a family or path nobody has measured trains in fp32. GPUs are not
in this table: nothing here was measured on one, so `auto` there stays bf16 / fp16 as before.
"""
from __future__ import annotations

import statistics

# family -> CPU bf16 path -> classifier-FID (cnn-small@mnist5k, 2,000 samples) per seed at each
# precision, and where the figures come from.
MEASURED: dict[str, dict[str, dict]] = {
    "mlp": {
        # seeds 0, 1, 2; bf16's seed 2 spiked (D loss 86 at step 307) and collapsed (recall 0.15)
        "amx": {"fp32": [53.55, 58.49, 33.18], "bf16": [37.47, 37.63, 147.24],
                "source": "`ganforge sweep gan --preset mlp-mnist --grid seed=0,1,2 precision=fp32,bf16 "
                          "--eval-num 2000` (3,000 steps), 2-core Intel Xeon with AMX, 1 thread per cell, "
                          "branch gan-sweep of issue 25"},
        "avx512_bf16": {"fp32": [57.2], "bf16": [243.6, 140.3, 116.3],
                        "source": "issue 25's report: 2-core AMD EPYC (AVX-512 BF16, no AMX), mlp-mnist, "
                                  "3,000 steps; fp32 for seed 0 only"},
    },
    "dcgan": {
        # seeds 0, 1, 2; bf16 inside fp32's range on every seed (and faster: 170 s vs 265 s median wall)
        "amx": {"fp32": [103.22, 106.03, 118.44], "bf16": [100.08, 104.45, 116.96],
                "source": "`ganforge sweep gan --preset dcgan-mnist --steps 1000 --grid seed=0,1,2 "
                          "precision=fp32,bf16 --eval-num 2000`, 2-core Intel Xeon with AMX, 1 thread per "
                          "cell, branch gan-sweep of issue 25 (1,000 steps: the shared machine was too slow "
                          "for the preset's 3,000 in time)"},
    },
}


def cpu_bf16_allowed(family: str, path: str | None) -> tuple[bool, str]:
    """(whether auto may pick bf16 for `family` on a CPU whose bf16 path is `path`, why)."""
    if path is None:
        return False, "no native bf16 on this CPU"
    m = MEASURED.get(family, {}).get(path)
    if not m or not m["fp32"] or not m["bf16"]:
        return False, f"no sweep has compared bf16 with fp32 for {family} on {path.upper()} CPUs yet"
    median, bf16_worst, fp32_worst = statistics.median(m["bf16"]), max(m["bf16"]), max(m["fp32"])
    ok = median <= fp32_worst and bf16_worst <= fp32_worst
    return ok, (f"for {family} on {path.upper()} CPUs a sweep gave classifier-FID {median:.1f} median / "
                f"{bf16_worst:.1f} worst in bf16 against fp32's worst seed {fp32_worst:.1f}")
