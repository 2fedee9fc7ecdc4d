"""`ganforge export --format hf`: a Hugging Face model folder for one model of every task that loads back
with ganforge.load (same outputs for the same seed as the checkpoint), whose card huggingface_hub
parses with the run's own figures (or says "not evaluated"); every command takes such a folder."""
import contextlib
import io
import json

import pytest
import torch

import ganforge
from ganforge.cli import main
from ganforge.nn import checkpoint
from ganforge.errors import UserError

from tiny_models import probe, train_tiny

CASES = {"gan": "dcgan", "cyclegan": None, "sr": None, "classifier": None, "forecaster": None}
# What `ganforge eval` records beside a checkpoint (protocol + metrics), by task; the card must carry these.
EVALS = {"gan": ({"extractor": "classifier-mnist5k", "num_generated": 500, "num_reference": 4000, "seed": 0,
                  "dataset": "synthetic:1x16x16:32", "reference_split": "train"},
                 {"num": 500, "num_real": 4000, "fid": 212.5, "fid_std": 3.25, "kid": 0.183, "precision": 0.0625,
                  "recall": 0.0}),
         "cyclegan": ({"dataset": "photo2vintage", "seed": 0}, {"AtoB_psnr_truth": 13.5, "BtoA_psnr_truth": 12.25}),
         "sr": ({"dataset": "photos", "seed": 0}, {"psnr_y": 16.25, "ssim_y": 0.3, "psnr_y_bicubic": 18.5}),
         "classifier": ({"dataset": "mnist5k"}, {"accuracy": 0.125, "loss": 2.3})}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """task -> run directory (tiny, a step or two), with an eval.json in the format `ganforge eval` writes."""
    root = tmp_path_factory.mktemp("hub")
    out = {}
    for task, model in CASES.items():
        run = train_tiny(task, root, model)
        if task in EVALS:
            step = checkpoint.load(run)["step"]
            proto, metrics = EVALS[task]
            (run / "eval.json").write_text(json.dumps({"checkpoint": str(run / "checkpoint.pt"), "task": task,
                                                       "step": step, "protocol": proto, "metrics": metrics}))
        out[task] = run
    return out


@pytest.fixture(scope="module")
def exported(runs, tmp_path_factory):
    """task -> the hf folder of its run (written once, shared by the tests below)."""
    root, cache = tmp_path_factory.mktemp("hf"), {}

    def get(task):
        if task not in cache:
            with contextlib.redirect_stdout(io.StringIO()) as said:
                assert main(["export", str(runs[task]), "--format", "hf", "-o", str(root / task)]) == 0
            assert "max abs diff 0 against the checkpoint" in said.getvalue(), said.getvalue()
            cache[task] = root / task
        return cache[task]
    return get


def outputs(model):
    return probe(model, forecast_csv=True)


@pytest.mark.parametrize("task", list(CASES))
def test_hf_folder_loads_back_and_its_card_carries_the_run_figures(task, runs, exported):
    from huggingface_hub import ModelCard

    run, out = runs[task], exported(task)
    assert {"README.md", "config.json", "model.safetensors"} <= {p.name for p in out.iterdir()}
    assert (out / "images" / "sample.png").is_file() or task == "classifier"
    source = run / "best.pt" if task == "forecaster" else run   # a forecaster's card describes best.pt
    a, b = ganforge.load(source), ganforge.load(out)
    assert type(a) is type(b) and torch.equal(outputs(a), outputs(b))

    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "ganforge" and card.data.license == "mit" and "ganforge" in card.data.tags
    assert card.data.pipeline_tag == {"gan": "unconditional-image-generation", "classifier": "image-classification",
                                      "forecaster": "time-series-forecasting"}.get(task, "image-to-image")
    if task == "forecaster":
        rep = json.loads((run / "test_metrics.json").read_text())
        want = {**rep["GRU"], **{f"coverage_{k}": v for k, v in rep["coverage"].items()}}
    else:
        want = {k: v for k, v in EVALS[task][1].items() if not k.endswith("_std") and k not in ("num", "num_real")}
    assert {r.metric_type: r.metric_value for r in card.data.eval_results} == want
    assert set(card.data.metrics) == {k.split("_")[0] if task == "forecaster" else k for k in want}
    assert card.data.datasets == (["ylecun/mnist"] if task == "classifier" else None)   # mnist5k is MNIST
    if task == "gan":
        assert card.data.eval_results[0].metric_args["extractor"] == "classifier-mnist5k"
        assert "212.5 ± 3.2" in card.text and "500 generated images" in card.text
    wall = json.loads((run / "summary.json").read_text())["train_wall_s"]
    assert wall > 0 and "training wall time: " in card.text and f"ganforge.load(\"{task}\")" in card.text
    assert "Not evaluated" not in card.text


def test_every_command_takes_an_export_folder(exported, tmp_path, capsys):
    hf = {task: exported(task) for task in ("gan", "cyclegan", "sr", "forecaster")}
    from PIL import Image

    Image.new("RGB", (20, 16), (200, 40, 40)).save(tmp_path / "in.png")
    assert main(["sample", str(hf["gan"]), "-n", "4", "-o", str(tmp_path / "grid.png"), "--seed", "1"]) == 0
    assert main(["translate", str(hf["cyclegan"]), str(tmp_path / "in.png"), "-o", str(tmp_path / "t")]) == 0
    assert main(["upscale", str(hf["sr"]), str(tmp_path / "in.png"), "-o", str(tmp_path / "up.png")]) == 0
    assert main(["forecast", str(hf["forecaster"]), "-o", str(tmp_path / "f.csv")]) == 0   # its series travelled
    assert main(["export", str(hf["gan"]), "-o", str(tmp_path / "g.onnx")]) == 0
    capsys.readouterr()
    assert main(["export", str(hf["gan"]), "--format", "hf", "-o", str(tmp_path / "again")]) == 0   # figures kept
    assert "fid 212.5" in capsys.readouterr().out and (tmp_path / "again" / "images" / "samples.png").is_file()
    assert Image.open(tmp_path / "up.png").size == (40, 32) and (tmp_path / "f.csv").read_text().count("\n") == 3


def test_a_run_without_evaluation_gets_not_evaluated(runs, tmp_path, capsys):
    from huggingface_hub import ModelCard

    run = runs["gan"]
    record = run / "eval.json"
    saved = record.read_text()
    try:
        record.unlink()
        assert main(["export", str(run), "--format", "hf", "-o", str(tmp_path / "a")]) == 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "not evaluated" in err
        card = ModelCard.load(tmp_path / "a" / "README.md")
        assert card.data.eval_results is None and "Not evaluated" in card.text and "| FID" not in card.text
        record.write_text(saved.replace('"step": 1', '"step": 7'))   # scored another step: stale, not claimed
        assert main(["export", str(run), "--format", "hf", "-o", str(tmp_path / "b")]) == 0
        assert "scored step 7" in capsys.readouterr().err
    finally:
        record.write_text(saved)


def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, capsys):
    run, out = runs["classifier"], tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for args, msg in (([str(run), "-o", str(out)], "not empty; pass --force"),
                      ([str(run), "-o", str(run)], "holds the checkpoint"),
                      ([str(run), "-o", str(tmp_path / "x"), "--repo-id", "no-slash"], "--repo-id must look like"),
                      ([str(tmp_path / "nothing"), "-o", str(tmp_path / "y")], "does not exist"),
                      ([str(run), "-o", str(out / "keep.txt")], "is a file")):
        assert main(["export", *args, "--format", "hf"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and msg in err, err
    assert (out / "keep.txt").read_text() == "mine"
    assert main(["export", str(run), "--format", "hf", "-o", str(out), "--force"]) == 0
    assert not (out / "keep.txt").exists()

    foreign = tmp_path / "foreign"   # another library's model folder: config.json + model.safetensors of its own
    foreign.mkdir()
    (foreign / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (foreign / "model.safetensors").write_bytes((out / "model.safetensors").read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, msg in ((foreign, "not a ganforge export"), (empty, "neither a ganforge run nor a ganforge export")):
        assert main(["sample", str(folder)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and msg in err, err
        with pytest.raises(UserError, match=msg):
            ganforge.load(folder)


def test_training_wall_time_adds_up_over_a_resume(tmp_path):
    run = train_tiny("gan", tmp_path, "mlp")
    first = json.loads((run / "summary.json").read_text())["train_wall_s"]
    ganforge.train("gan", resume=run, steps=2, progress=False)
    second = json.loads((run / "summary.json").read_text())
    assert second["step"] == 2 and second["train_wall_s"] > first > 0
