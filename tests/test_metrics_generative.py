"""Generator evaluation end to end: real-vs-real floor, ranking of better samples, GAN
checkpoints through `ganforge eval`, --eval-every with best.pt, and the bad-input messages."""
import json

import numpy as np
import pytest
import torch

from ganforge.api import train
from ganforge.cli import main
from ganforge.data import load_images, to_float
from ganforge.metrics.extractors import EMBEDDED, get_extractor
from ganforge.metrics.generative import evaluate_images, evaluate_real, reference_features
from ganforge.nn import checkpoint


@pytest.fixture(scope="module")
def ext():
    return get_extractor("auto", (1, 28, 28), "mnist5k")


def test_extractor_label_is_classifier_fid(ext):
    assert ext.name == "classifier-FID (cnn-small@mnist5k)"
    assert ext.features(torch.zeros(3, 1, 28, 28)).shape == (3, 128)


def test_real_heldout_vs_train_is_the_floor(ext, tmp_path):
    r = evaluate_real("mnist5k", ext, num=500)
    acc = checkpoint.load(EMBEDDED)["metrics"]["val_acc"]
    assert r["label_acc"] == pytest.approx(acc, abs=0.03)
    assert r["fid"] < 10 and r["precision"] > 0.8 and r["recall"] > 0.8
    assert any((tmp_path / "cache" / "fid-refs").iterdir())   # reference features cached


def test_better_samples_score_better(ext):
    """Real digits degraded by less noise must beat the same digits degraded by more."""
    real = reference_features(ext, "mnist5k", (1, 28, 28))
    test = to_float(load_images("mnist5k", "test").images[:400])
    g = torch.Generator().manual_seed(0)
    scores = [evaluate_images((test + s * torch.randn(test.shape, generator=g)).clamp(-1, 1), ext, real,
                              kid_subsets=10) for s in (0.1, 0.6, 1.5)]
    fids = [s["fid"] for s in scores]
    assert fids[0] < fids[1] < fids[2]
    assert scores[0]["kid"] < scores[2]["kid"] and scores[0]["precision"] > scores[2]["precision"]


def test_gan_eval_cli_and_eval_every(capsys, tmp_path):
    run = train("gan", model="mlp", data="mnist5k", steps=2, batch_size=16, width=16, latent_dim=8,
                eval_every=1, eval_num=50, progress=False, sample_every=0)
    assert (run / "best.pt").is_file()
    stats = [json.loads(ln) for ln in (run / "stats.jsonl").read_text().splitlines()]
    assert sum("fid" in s for s in stats) == 2
    assert main(["eval", str(run / "checkpoint.pt"), "--num", "60"]) == 0
    out = capsys.readouterr().out
    for label in ("classifier-FID (cnn-small@mnist5k)", "KID", "IS", "precision", "recall"):
        assert label in out
    # a generator checkpoint where a classifier is expected, and the reverse
    assert main(["features", str(run / "checkpoint.pt")]) == 2
    assert "gan checkpoint" in capsys.readouterr().err
    assert main(["sample", str(EMBEDDED)]) == 2
    assert "classifier checkpoint" in capsys.readouterr().err
    assert main(["eval", str(run), "--num", "20", "--extractor", f"classifier:{run / 'checkpoint.pt'}"]) == 2
    assert "gan checkpoint" in capsys.readouterr().err


def test_mismatched_generator_and_extractor(capsys, tmp_path):
    from PIL import Image
    (tmp_path / "imgs").mkdir()
    for i in range(8):
        Image.fromarray(np.full((16, 16, 3), 30 * i, np.uint8)).save(tmp_path / "imgs" / f"{i}.png")
    run = train("gan", model="mlp", data=f"folder:{tmp_path / 'imgs'}", image_size=16, steps=1, batch_size=4,
                width=8, latent_dim=4, progress=False, sample_every=0)
    assert main(["eval", str(run), "--num", "10", "--extractor", "classifier"]) == 2
    err = capsys.readouterr().err
    assert "needs 1x28x28 images" in err and "3x16x16" in err
    assert main(["eval", str(run), "--num", "10"]) == 2          # auto, no Inception file offline
    assert "no offline feature extractor" in capsys.readouterr().err
    assert main(["eval", str(run), "--extractor", "vgg"]) == 2
    assert "unknown extractor" in capsys.readouterr().err
