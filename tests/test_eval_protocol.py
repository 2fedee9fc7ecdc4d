"""eval.json records how a score was measured; scores measured differently are never compared;
FID / KID from fewer than 1,000 images come with a warning, in eval and in training alike."""
import json

import pytest
import torch

from ganforge.api import train
from ganforge.cli import main
from ganforge.nn import checkpoint
from ganforge.errors import UserError
from ganforge.metrics import protocol as P
from ganforge.metrics.sweep_report import rows

FIELDS = ("extractor", "extractor_sha256", "layer", "resize", "num_generated", "num_reference", "reference_split",
          "seed", "weights", "precision", "dataset")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return train("gan", model="mlp", data="mnist5k", steps=2, batch_size=16, width=16, latent_dim=8, ema=0.9,
                 eval_every=1, eval_num=30, progress=False, sample_every=0, out=str(out), precision="fp32")


def test_eval_writes_every_protocol_field_and_warns_below_1000(run, capsys):
    assert main(["eval", str(run / "checkpoint.pt"), "--num", "40", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert "biased" in captured.err and "40 generated images" in captured.err
    record = json.loads((run / "eval.json").read_text())
    proto = record["protocol"]
    assert set(FIELDS) <= set(proto) and all(proto[k] is not None for k in FIELDS)
    assert proto["num_generated"] == 40 and proto["seed"] == 3 and proto["weights"] == "EMA of G"
    assert proto["reference_split"] == "train" and proto["num_reference"] == 4000
    assert len(proto["extractor_sha256"]) == 64 and record["train_precision"] == "fp32"
    assert record["metrics"]["fid"] > 0 and "kid" in record["metrics"]
    # best.pt's record goes beside it, not over the last checkpoint's
    assert main(["eval", str(run / "best.pt"), "--num", "30"]) == 0
    assert json.loads((run / "best.eval.json").read_text())["protocol"]["num_generated"] == 30
    assert json.loads((run / "eval.json").read_text())["protocol"]["num_generated"] == 40


def test_training_time_evaluation_warns_once_and_best_pt_keeps_its_protocol(tmp_path, capsys):
    run = train("gan", model="mlp", data="mnist5k", steps=3, batch_size=16, width=16, latent_dim=8,
                eval_every=1, eval_num=20, progress=False, sample_every=0, out=str(tmp_path), precision="fp32")
    assert capsys.readouterr().err.count("biased") == 1
    best = checkpoint.load(run / "best.pt")["metrics"]
    assert best["protocol"]["num_generated"] == 20 and best["best_step"] in (1, 2, 3)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best_step"] == best["best_step"] and summary["last_eval_step"] == 3
    assert "last_eval_fid" in summary and summary["best_fid"] <= summary["last_eval_fid"]


def _cell(name, seed, extractor, fid):
    proto = {"extractor": extractor, "num_generated": 2000, "seed": 0}
    return {"name": name, "setting": {"seed": seed}, "status": "ok", "wall_s": 1.0, "metrics": {"fid": fid},
            "protocol": proto}


def test_scores_from_different_extractors_are_refused_side_by_side():
    clf = "classifier-FID (cnn-small@mnist5k)"
    same = [_cell("a", 0, clf, 30.0), _cell("b", 1, clf, 40.0)]
    assert rows(same)[0]["metrics"]["fid"]["worst"] == 40.0
    mixed = [same[0], _cell("b", 1, "FID (Inception-v3)", 40.0)]
    with pytest.raises(UserError, match=r"a and b .*extractor: classifier-FID \(cnn-small@mnist5k\) vs FID"):
        rows(mixed)
    assert P.difference({"seed": 0, "weights": "raw G"}, {"seed": 0, "weights": "EMA of G"}) is None
    assert P.difference({"num_generated": 2000}, {"num_generated": 500}) == "num_generated: 2000 vs 500"


def test_warn_small_threshold(capsys):
    P.warn_small(999)
    assert "999 generated images (< 1,000)" in capsys.readouterr().err
    P.warn_small(1000)
    assert capsys.readouterr().err == ""


def test_the_dashboard_does_not_list_scores_of_another_protocol_beside_each_other(tmp_path):
    import os

    from ganforge.use.serve_actions import list_runs

    for i, (name, num) in enumerate((("gan-0001", 500), ("gan-0002", 2000), ("gan-0003", 2000))):
        d = tmp_path / name
        d.mkdir()
        (d / "config.yaml").write_text("model: mlp\n")
        (d / "eval.json").write_text(json.dumps({"task": "gan", "metrics": {"fid": 10.0 + i},
                                                 "protocol": {"extractor": "x", "num_generated": num}}))
        os.utime(d, (1e9 + i, 1e9 + i))   # gan-0003 newest: its protocol is the reference
    shown = {r[0]: json.loads(r[4]) for r in list_runs(tmp_path)}
    assert shown["gan-0003"]["eval_fid"] == 12.0 and shown["gan-0002"]["eval_fid"] == 11.0
    assert "eval_fid" not in shown["gan-0001"]
    assert shown["gan-0001"]["eval"] == "not comparable with gan-0003's scores (num_generated: 2000 vs 500)"


def test_a_resumed_run_does_not_pick_best_pt_against_scores_measured_differently(tmp_path, capsys):
    run = train("gan", model="mlp", data="mnist5k", steps=2, batch_size=16, width=16, latent_dim=8,
                eval_every=1, eval_num=20, progress=False, sample_every=0, out=str(tmp_path), precision="fp32")
    path = run / "checkpoint.pt"
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["metrics"]["protocol"]["num_generated"] == 20
    ckpt["metrics"]["protocol"]["extractor_sha256"] = "0" * 64   # best.pt was chosen by other weights
    torch.save(ckpt, path)
    assert main(["train", "gan", "--resume", str(run), "--steps", "3", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "refusing to put fid scores of best.pt (step" in err and "extractor_sha256: 0000" in err


def test_eval_of_the_embedded_classifier_writes_nothing_into_the_package(capsys):
    from ganforge.metrics.extractors import EMBEDDED

    assert main(["eval", str(EMBEDDED), "--num", "20"]) == 0
    assert not P.eval_path(EMBEDDED).exists() and "written to" not in capsys.readouterr().out
