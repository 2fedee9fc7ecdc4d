"""SR (against bicubic) and CycleGAN (against the untranslated input) say in the training summary
whether they beat their trivial baseline, as the forecaster does against naive."""
import pytest

import ganforge
from ganforge.cli import main
from ganforge.metrics.translation import against_baseline
from ganforge.tasks.sr import sr_verdict


def test_against_baseline_names_each_loss():
    assert against_baseline("net", "bicubic", [("PSNR", 30.0, 29.0), ("SSIM", 0.9, 0.8)], "x") == \
        "the net beats bicubic on PSNR 30 vs 29, SSIM 0.9 vs 0.8"
    text = against_baseline("net", "bicubic", [("PSNR", 30.0, 31.0), ("SSIM", 0.9, 0.8)], "train longer")
    assert text == "the net does NOT beat bicubic: PSNR 30 vs 31; train longer"


def test_sr_verdict_reads_psnr_and_ssim_against_bicubic():
    s = {"psnr_y": 33.33, "bicubic_psnr_y": 33.42, "ssim_y": 0.9, "bicubic_ssim_y": 0.85}
    assert "does NOT beat bicubic" in sr_verdict("srresnet", s) and "33.33 vs 33.42" in sr_verdict("srresnet", s)
    assert sr_verdict("srgan", {**s, "psnr_y": 34.0}).startswith("the srgan beats bicubic")


@pytest.mark.parametrize("task, argv, baseline", [
    ("sr", ["--data", "photos", "--crop", "16", "--scale", "2", "--width", "2", "--blocks", "1", "--batch-size", "2"],
     "bicubic on the held-out images"),
    ("cyclegan", ["--crop-size", "24", "--load-size", "28", "--width", "2"], "the untranslated input"),
])
def test_a_one_step_model_is_told_it_loses_to_the_baseline(task, argv, baseline, tmp_path, capsys):
    assert main(["train", task, *argv, "--steps", "1", "--sample-every", "0", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("verdict"))
    assert f"does NOT beat {baseline}" in line and "train longer" in line, out
