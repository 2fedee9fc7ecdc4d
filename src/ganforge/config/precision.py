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

# family -> CPU bf16 path -> the sweeps of that family there: classifier-FID (cnn-small@mnist5k,
# 2,000 samples) per seed at each precision, and where the figures come from. bf16 is allowed only
# where every recorded sweep allows it: one recipe of a family that collapses in bf16 is enough
# to keep that family's unmeasured settings in fp32.
MEASURED: dict[str, dict[str, list[dict]]] = {
    "mlp": {
        "amx": [
            # the old preset (lr 8e-4, 3,000 steps), seeds 0, 1, 2: bf16's seed 2 spiked (D loss 86 at
            # step 307) and collapsed (recall 0.15)
            {"fp32": [53.55, 58.49, 33.18], "bf16": [37.47, 37.63, 147.24],
             "source": "`ganforge sweep gan --preset mlp-mnist --grid seed=0,1,2 precision=fp32,bf16 "
                       "--eval-num 2000` with lr 8e-4 and 3,000 steps, 2-core Intel Xeon with AMX, 1 thread "
                       "per cell, branch gan-sweep of issue 25"},
            # the preset now (lr 4e-4, 6,000 steps), seeds 0, 1, 2: bf16's median inside fp32's range, its worst
            # seed 1.1 above fp32's worst
            {"fp32": [21.10, 20.07, 16.68], "bf16": [19.02, 17.86, 22.22],
             "source": "`ganforge sweep gan --preset mlp-mnist --precision fp32 --steps 6000 --eval-every 1000 "
                       "--grid seed=0,1,2 lr=4e-4 --eval-num 2000` and the same with --precision bf16 (without "
                       "--eval-every), Intel Xeon with AMX, 1 thread per cell, branch gan-sweep of issue 25"},
        ],
        "avx512_bf16": [
            {"fp32": [57.2], "bf16": [243.6, 140.3, 116.3],
             "source": "issue 25's report: 2-core AMD EPYC (AVX-512 BF16, no AMX), mlp-mnist with lr 8e-4, "
                       "3,000 steps; fp32 for seed 0 only"},
        ],
    },
    "dcgan": {
        "amx": [
            # seeds 0, 1, 2; bf16 inside fp32's range on every seed (and faster: 170 s vs 265 s median wall)
            {"fp32": [103.22, 106.03, 118.44], "bf16": [100.08, 104.45, 116.96],
             "source": "`ganforge sweep gan --preset dcgan-mnist --steps 1000 --grid seed=0,1,2 "
                       "precision=fp32,bf16 --eval-num 2000`, 2-core Intel Xeon with AMX, 1 thread per cell, "
                       "branch gan-sweep of issue 25 (1,000 steps: the shared machine was too slow for the "
                       "preset's 3,000 in time)"},
        ],
    },
}


def _verdict(sweep: dict) -> tuple[bool, str]:
    median, bf16_worst, fp32_worst = (statistics.median(sweep["bf16"]), max(sweep["bf16"]), max(sweep["fp32"]))
    ok = median <= fp32_worst and bf16_worst <= fp32_worst
    return ok, (f"classifier-FID {median:.1f} median / {bf16_worst:.1f} worst in bf16 against fp32's worst seed "
                f"{fp32_worst:.1f}")


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
