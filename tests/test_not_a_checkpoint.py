"""A file that is not a ganforge checkpoint, given where one is expected: one line that says what the
file is and what to do instead, and never torch's advice to load it with weights_only=False."""
import pytest
import torch
import torch.nn as nn
from PIL import Image

import ganforge
from ganforge.cli import main
from ganforge.errors import UserError


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    torch.onnx.export(net, torch.zeros(1, 1, 8, 8), str(d / "g.onnx"), dynamo=False)
    (d / "g.bin").write_bytes((d / "g.onnx").read_bytes())   # ONNX under another name
    (d / "temps.csv").write_text("day,temp\n2020-01-01,3.5\n2020-01-02,4.1\n2020-01-03,2.0\n")
    (d / "semi.csv").write_text("day;temp\n2020-01-01;3.5\n2020-01-02;4.1\n")
    (d / "notes.txt").write_text("remember to train the zebra model\n")
    (d / "empty.pt").write_bytes(b"")
    Image.new("RGB", (8, 8)).save(d / "photo.png")
    torch.save(net.state_dict(), d / "weights.pt")
    torch.save(net, d / "whole.pt")
    torch.save({"model.1.weight": torch.zeros(2, 3, 7, 7), "model.1.bias": torch.zeros(2)}, d / "latest_net_G_A.pth")
    return d


KINDS = [("g.onnx", "an ONNX model"), ("g.bin", "an ONNX model"), ("temps.csv", "a CSV table"),
         ("semi.csv", "a CSV table"), ("notes.txt", "a text file"), ("empty.pt", "an empty file"),
         ("photo.png", "a PNG image"), ("weights.pt", "a state dict of 2 tensors without ganforge's meta"),
         ("whole.pt", "pickles Python objects"), ("latest_net_G_A.pth", "CycleGAN reference code")]
TODO = {"an ONNX model": "onnxruntime", "a CSV table": "train forecaster --csv",
        "CycleGAN reference code": "ganforge import cyclegan"}


def _one_line(err: str) -> str:
    assert "Traceback" not in err and "weights_only" not in err and "Weights only" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


@pytest.mark.parametrize("command", ["sample", "serve", "export", "eval"])
@pytest.mark.parametrize("name, kind", KINDS)
def test_commands_name_what_the_file_is(files, command, name, kind, capsys):
    argv = [command, str(files / name)] + (["-o", str(files / "out.onnx")] if command == "export" else [])
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert kind in line and next((v for k, v in TODO.items() if k in kind), "") in line


@pytest.mark.parametrize("name, kind", KINDS)
def test_the_api_names_what_the_file_is(files, name, kind):
    with pytest.raises(UserError) as e:
        ganforge.load(files / name)
    assert kind in str(e.value) and "weights_only" not in str(e.value)


@pytest.mark.parametrize("name, kind", [k for k in KINDS if k[0] not in ("weights.pt", "latest_net_G_A.pth")])
def test_import_cyclegan_names_what_the_file_is(files, name, kind, capsys):
    assert main(["import", "cyclegan", str(files / name), "-o", str(files / "imp")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert kind in line and "latest_net_G_A.pth" in line


def test_import_cyclegan_of_a_ganforge_checkpoint_says_use_it(files, capsys):
    ckpt = {"format": "ganforge-checkpoint", "version": 1, "task": "cyclegan", "modules": {}}
    torch.save(ckpt, files / "mine.pt")
    assert main(["import", "cyclegan", str(files / "mine.pt"), "-o", str(files / "imp")]) == 2
    assert "a ganforge checkpoint already" in _one_line(capsys.readouterr().err)
