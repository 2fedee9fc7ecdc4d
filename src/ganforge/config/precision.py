"""Where `--precision auto` may train a GAN family in bf16 on a CPU: only where a sweep of seeds found
bf16's median classifier-FID inside the range of fp32's seeds on that kind of bf16 hardware.

CPUs compute bf16 two ways, with different numerics (oneDNN picks other kernels): AMX tiles (Intel
Xeon since Sapphire Rapids) and AVX-512 BF16 alone (AMD EPYC Zen 4, older Xeons). A verdict for one
says nothing about the other, and a family or path nobody has measured trains in fp32. GPUs are not
in this table: nothing here was measured on one, so `auto` there stays bf16 / fp16 as before.
"""
from __future__ import annotations

# family -> CPU bf16 path -> (bf16 allowed, the measurement it rests on)
CPU_BF16: dict[str, dict[str, tuple[bool, str]]] = {
    "mlp": {
        # `ganforge sweep gan --preset mlp-mnist --grid seed=0,1,2 precision=fp32,bf16 --eval-num 2000`,
        # 3,000 steps, 1 thread per cell, Intel Xeon with AMX (branch gan-sweep, issue 25): see MEASURED.
        "amx": (None, "mlp-mnist sweep, Intel Xeon AMX"),
        # issue 25's report: 2-core AMD EPYC, AVX-512 BF16 without AMX, mlp-mnist 3,000 steps, 2,000
        # samples: bf16 seeds 0-2 at classifier-FID 243.6 / 140.3 / 116.3, fp32 seed 0 at 57.2.
        "avx512_bf16": (False, "issue 25: AMD EPYC (AVX-512 BF16, no AMX), bf16 116-244 vs fp32 57"),
    },
    "dcgan": {
        "amx": (None, "dcgan-mnist sweep, Intel Xeon AMX"),
    },
}


def cpu_bf16_allowed(family: str, path: str | None) -> tuple[bool, str]:
    """(whether auto may pick bf16 for `family` on a CPU whose bf16 path is `path`, why)."""
    if path is None:
        return False, "no native bf16 on this CPU"
    verdict = CPU_BF16.get(family, {}).get(path)
    if verdict is None or verdict[0] is None:
        return False, f"no sweep has compared bf16 with fp32 for {family} on {path.upper()} CPUs yet"
    ok, source = verdict
    return ok, f"bf16 {'within' if ok else 'outside'} fp32's range over seeds for {family} ({source})"
