"""Bad inputs of the data-at-scale paths (issue 19) for `train sr` (kept apart from
tests/test_bad_inputs.py, which is at its size limit): exit code 2, exactly one `error:` line, no
traceback."""
from __future__ import annotations

import pytest
from PIL import Image

from ganforge.cli import main

SR = ["train", "sr", "--crop", "16", "--width", "4", "--blocks", "1", "--batch-size", "2", "--sample-every", "0",
      "--steps", "1", "--no-progress", "--workers", "0", "--out", "runs"]

CASES = [
    (["--data", "packed:nowhere"], "packed dataset nowhere does not exist"),
    (["--data", "folder:imgs", "--stream", "--stream-size", "8"], "--stream-size 8 is smaller than --crop 16"),
    (["--data", "folder:imgs", "--eval-data", "packed:nowhere"], "held-out images are scored whole"),
    (["--data", "folder:tiny", "--stream"], "holds no readable images"),   # every image smaller than the crop: none left
    (["--data", "folder:imgs", "--stream-size", "-1"], "--stream-size"),
    (["--data", "folder:imgs", "--data-memory", "-2"], "--data-memory"),
]


@pytest.mark.parametrize("argv,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_train_sr_bad_data_is_one_error_line_and_exit_2(argv, expected, tmp_path, capsys):
    for name, side in (("imgs", 24), ("tiny", 10)):
        (tmp_path / name).mkdir()
        Image.new("RGB", (side, side), "red").save(tmp_path / name / "a.png")
    try:
        rc = main(SR + argv)
    except SystemExit as e:   # argparse's own errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and expected in lines[0], err


def test_train_sr_resume_keeps_the_data_path(tmp_path, capsys):
    # in memory a folder keeps its own sizes, streamed it is squares: switching would change the crops
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (24, 20), "red").save(tmp_path / "imgs" / "a.png")
    assert main(SR + ["--data", "folder:imgs"]) == 0
    run = next((tmp_path / "runs").iterdir())
    assert main(["train", "sr", "--resume", str(run), "--steps", "2", "--stream", "--no-progress"]) == 2
    assert "--stream" in [ln for ln in capsys.readouterr().err.splitlines() if "error:" in ln][0]
