"""`train gan --eval-every` on a folder with an unreadable image: errors name --eval-extractor (the
flag of train gan, not eval's --extractor), the skipped image is warned about once (not again at each
evaluation) and the data line counts only the images that train."""
import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main

TRAIN = ["train", "gan", "--model", "mlp", "--channels", "1", "--image-size", "28", "--width", "4", "--latent-dim",
         "4", "--batch-size", "8", "--eval-every", "1", "--eval-num", "8", "--no-progress", "--sample-every", "0"]


@pytest.fixture
def digits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(tmp_path / "digits" / f"{i}.png")
    (tmp_path / "digits" / "broken.png").write_text("not an image")
    return "folder:digits"


def test_no_extractor_for_the_data_names_eval_extractor(digits, capsys):
    assert main([*TRAIN, "--data", digits, "--steps", "1", "--out", "r"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and "--eval-extractor inception" in err[0] and "--extractor" not in \
        err[0].replace("--eval-extractor", "")


def test_a_wrong_classifier_names_eval_extractor(digits, tmp_path, capsys):
    assert main([*TRAIN, "--data", digits, "--steps", "1", "--out", "r", "--eval-extractor",
                 f"classifier:{tmp_path / 'nosuch.pt'}"]) == 2
    err = capsys.readouterr().err
    assert "error: --eval-extractor classifier:" in err and "does not exist" in err


def test_the_skipped_image_is_warned_about_once_and_not_counted(digits, capsys):
    assert main([*TRAIN, "--data", digits, "--steps", "3", "--out", "r", "--eval-extractor", "classifier"]) == 0
    err = capsys.readouterr().err
    assert err.count("skipped 1 image(s) in digits") == 1, err
    data = next(ln for ln in err.splitlines() if ln.startswith("data:"))
    assert "(16 images take" in data and "1 unreadable file(s) skipped" in data
