"""ganforge sweep end to end: cells are real CLI subprocesses (train, then eval), the table has a
median / worst / spread per setting, and an interrupted sweep resumes without re-training."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ganforge.cli import main
from ganforge.tasks.sweep import cell_name, cells, parse_grid
from ganforge import config as C
from ganforge.errors import UserError

GAN = ["sweep", "gan", "--model", "mlp", "--width", "8", "--latent-dim", "4", "--batch-size", "8", "--steps", "3",
       "--precision", "fp32", "--sample-every", "0", "--eval-num", "20", "--grid", "seed=0,1"]


def test_grid_parsing_checks_values_like_set():
    grid = parse_grid(["seed=0,1", "precision=fp32,bf16", "lr=1e-3"], C.TASKS["gan"])
    assert grid == {"seed": [0, 1], "precision": ["fp32", "bf16"], "lr": [1e-3]}
    assert parse_grid(["hidden=32,32|64"], C.TASKS["forecaster"]) == {"hidden": ["32,32", "64"]}
    assert [cell_name(s) for s in cells(grid)][:2] == ["seed-0_precision-fp32_lr-0.001",
                                                       "seed-0_precision-bf16_lr-0.001"]
    for bad, msg in ((["precision=fp8"], "precision must be one of"),
                     (["seed"], "expects KEY=V1,V2"), (["seed=0,0"], "repeats")):
        with pytest.raises(UserError, match=msg):
            parse_grid(bad, C.TASKS["gan"])


def test_bad_sweep_input_is_one_line(tmp_path, capsys):
    assert main(["sweep", "gan", "--grid", "seed=0", "--out", str(tmp_path / "s"), "--resume", "x"]) == 2
    assert main(["sweep", "gan", "--grid", "seed=0"]) == 2
    assert main(["sweep", "gan", "--grid", "seed=0", "--out", "s", "--no-such-flag", "1"]) == 2
    assert main(["sweep", "gan", "--grid", "width=-1", "--out", "s"]) == 2   # every cell's config is checked first
    err = capsys.readouterr().err
    assert err.count("error:") == 4 and "Traceback" not in err and not (tmp_path / "s").exists()


@pytest.mark.slow   # cells are real CLI subprocesses (train + eval each)
def test_gan_sweep_table_and_resume_after_interrupt(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = [*GAN, "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first = out / "cells" / "seed-0" / "cell.json"
    t0 = time.time()
    while not first.exists() and proc.poll() is None and time.time() - t0 < 120:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)   # while seed 1 trains
    assert proc.wait(60) == 130, proc.stdout.read().decode()
    assert "run the same command again to resume" in proc.stdout.read().decode()
    assert first.exists() and not (out / "cells" / "seed-1" / "cell.json").exists()
    kept = {p: p.stat().st_mtime_ns for p in (out / "cells" / "seed-0").rglob("*")}
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "resuming: 1 of 2 cells already finished" in text
    assert {p: p.stat().st_mtime_ns for p in (out / "cells" / "seed-0").rglob("*")} == kept   # not trained again
    md = (out / "sweep.md").read_text()
    assert "| fid median | fid worst | fid spread |" in md and "CPU: " in md
    doc = json.loads((out / "sweep.json").read_text())
    (row,) = doc["rows"]
    fids = [c["metrics"]["fid"] for c in doc["cells"]]
    assert len(fids) == 2 and row["metrics"]["fid"]["worst"] == max(fids)
    assert row["metrics"]["fid"]["median"] == pytest.approx(sum(fids) / 2)
    assert row["metrics"]["recall"]["worst"] == min(c["metrics"]["recall"] for c in doc["cells"])
    assert all(c["protocol"]["num_generated"] == 20 for c in doc["cells"])
    assert (out / "sweep.png").stat().st_size > 0
    # the same --out with another recipe is refused
    assert main([*argv[:-2], "--lr", "1e-3", "--out", str(out)]) == 2
    assert "another recipe" in capsys.readouterr().err


@pytest.mark.slow   # cells are real CLI subprocesses (train + eval each)
def test_forecaster_sweep_scores_from_its_test_part_mase_included(tmp_path, capsys):
    t = np.arange(160)
    y = np.sin(2 * np.pi * t / 8) + 0.1 * np.random.default_rng(0).standard_normal(160)
    days = np.datetime64("2020-01-01") + t
    (tmp_path / "s.csv").write_text("day,y\n" + "".join(f"{d},{v:.4f}\n" for d, v in zip(days, y)))
    rc = main(["sweep", "forecaster", "--csv", "s.csv", "--column", "y", "--window", "8", "--horizon", "2",
               "--epochs", "1", "--hidden", "4", "--grid", "seed=0,1", "--out", str(tmp_path / "f")])
    assert rc == 0, capsys.readouterr()
    md = (tmp_path / "f" / "sweep.md").read_text()
    assert "test_mase median" in md and "test_mase worst" in md and "| seed" not in md
    doc = json.loads((tmp_path / "f" / "sweep.json").read_text())
    assert [c["status"] for c in doc["cells"]] == ["ok", "ok"] and "test_mase" in doc["cells"][0]["metrics"]


def test_jobs_split_the_threads():
    from ganforge.tasks.sweep import Sweep

    assert Sweep("gan", [], {"seed": [0, 1]}, "x", jobs=2, threads=4).threads == 2
    assert Sweep("gan", [], {"seed": [0, 1]}, "x", jobs=3, threads=2).threads == 1


@pytest.mark.slow   # cells are real CLI subprocesses (train + eval each)
def test_a_cell_whose_evaluation_was_cut_off_is_evaluated_without_training_again(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = [*GAN[:-1], "seed=0", "--out", str(out)]
    assert main(argv) == 0
    cell = out / "cells" / "seed-0"
    (cell / "cell.json").unlink()          # as if killed during `ganforge eval`
    (cell / "gan-0001" / "eval.json").unlink()
    before = (cell / "gan-0001" / "checkpoint.pt").stat().st_mtime_ns
    assert main(argv) == 0
    assert (cell / "gan-0001" / "checkpoint.pt").stat().st_mtime_ns == before
    assert not (cell / "gan-0002").exists() and (cell / "cell.json").exists()
    assert json.loads((out / "sweep.json").read_text())["cells"][0]["status"] == "ok"


def test_which_way_is_better():
    from ganforge.metrics.sweep_report import higher_is_better

    for name in ("fid", "kid", "test_mase", "test_rmse", "loss", "AtoB_fid"):
        assert not higher_is_better(name), name
    for name in ("is", "recall", "label_acc", "AtoB_psnr_truth", "psnr_y srresnet", "accuracy", "code_purity"):
        assert higher_is_better(name), name


def test_a_video_table_leads_with_clip_fd_and_its_reference_rows():
    from ganforge.metrics.sweep_report import markdown, rows

    def cell(seed, fd):
        return {"name": f"seed-{seed}", "setting": {"seed": seed}, "status": "ok", "wall_s": 10.0,
                "precision": "fp32", "metrics": {"motion": 0.06, "motion_real": 0.07, "identity": 0.94,
                                                 "identity_real": 0.98, "motion_ratio": 0.87, "clip_fd": fd,
                                                 "clip_fd_real": 1.0, "clip_fd_static": 13.2,
                                                 "clip_fd_shuffled": 13.9}}

    (row,) = rows([cell(0, 5.2), cell(1, 5.4), cell(2, 4.0)])
    assert list(row["metrics"])[:4] == ["clip_fd", "clip_fd_static", "clip_fd_shuffled", "motion_ratio"]
    assert row["metrics"]["clip_fd"]["worst"] == 5.4 and row["worst_cell"] == "seed-1"   # lower is better
    md = markdown([row], "## video")
    assert "| clip_fd median | clip_fd worst | clip_fd spread | clip_fd_static median |" in md
    assert "| 5.2 | 5.4 | 1.4 | 13.2 |" in md


def test_a_cyclegan_table_leads_with_the_translations_against_the_truth():
    from ganforge.metrics.sweep_report import ordered

    names = ["AtoB_cycle_psnr", "AtoB_cycle_ssim", "AtoB_psnr_truth", "AtoB_ssim_truth", "AtoB_input_psnr_truth",
             "BtoA_cycle_psnr", "BtoA_psnr_truth", "BtoA_ssim_truth"]
    assert ordered(names)[:4] == ["AtoB_ssim_truth", "BtoA_ssim_truth", "AtoB_psnr_truth", "BtoA_psnr_truth"]
    assert ordered(names)[4:] == ["AtoB_cycle_psnr", "AtoB_cycle_ssim", "AtoB_input_psnr_truth", "BtoA_cycle_psnr"]
