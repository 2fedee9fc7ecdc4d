"""`ganforge export` for every registered model: safetensors round trips through ganforge.load (same
images for the same seed), ONNX and TorchScript agree with PyTorch on a random input."""
import json

import pytest
import torch

import ganforge
from ganforge.cli import main

from tiny_models import probe, registry_cases, train_tiny

CASES = registry_cases()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    cache = {}

    def get(task, model):
        if (task, model) not in cache:
            cache[task, model] = train_tiny(task, root, model)
        return cache[task, model]
    return get


@pytest.mark.parametrize("task,model", CASES, ids=[m for _, m in CASES])
def test_safetensors_round_trip(task, model, runs, tmp_path, capsys):
    run = runs(task, model)
    out = tmp_path / "model.safetensors"
    assert main(["export", str(run), "-o", str(out)]) == 0
    assert "max abs diff 0 " in capsys.readouterr().out
    a, b = ganforge.load(run), ganforge.load(out)
    assert type(a) is type(b)
    assert torch.equal(probe(a), probe(b))
    from safetensors import safe_open

    with safe_open(str(out), framework="pt") as f:
        card = json.loads(f.metadata()["model_card"])
        keys = list(f.keys())
    assert card["ganforge_version"] == ganforge.__version__ and card["task"] == ckpt_task(run)
    assert card["architecture"] in (model, task) and card["config"] and "inputs" in card and "outputs" in card
    assert not any(k.startswith(("D.", "D_X.", "D_Y.")) for k in keys)   # only what inference needs


def ckpt_task(run) -> str:
    from ganforge.nn import checkpoint

    return checkpoint.load(run)["task"]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("task,model", CASES, ids=[m for _, m in CASES])
def test_graph_exports_match_pytorch(task, model, fmt, runs, tmp_path, capsys):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install 'ganforge[export]')")
    run = runs(task, model)
    out = tmp_path / f"model.{fmt}"
    assert main(["export", str(run), "--format", fmt, "-o", str(out)]) == 0
    line = capsys.readouterr().out
    diff = float(line.rsplit("max abs diff against PyTorch on a random input: ", 1)[1].split()[0])
    assert diff < 1e-4, line
    assert out.stat().st_size > 0


def test_safetensors_of_another_kind_is_refused(tmp_path, capsys):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    (tmp_path / "text.safetensors").write_text("not a safetensors file")
    for name, msg in (("foreign", "without a ganforge model card"), ("text", "not a readable safetensors")):
        assert main(["sample", str(tmp_path / f"{name}.safetensors")]) == 2
        assert msg in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.pt"), "-o", "x.onnx"]) == 2
    assert "does not exist" in capsys.readouterr().err
