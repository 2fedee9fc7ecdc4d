"""Bad inputs of the checks issue 26 added for image tasks (kept apart from tests/test_bad_inputs.py,
which is at its size limit): exit code 2, exactly one `error:` line naming the flag or the file, no
traceback and no torch advice."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from ganforge.cli import main


@pytest.fixture(scope="module")
def F(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad26")
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    torch.onnx.export(net, torch.zeros(1, 1, 8, 8), str(d / "g.onnx"), dynamo=False)
    (d / "temps.csv").write_text("day,temp\n2020-01-01,3.5\n2020-01-02,4.1\n")
    (d / "notes.txt").write_text("notes\n")
    torch.save(net.state_dict(), d / "weights.pt")
    torch.save(net, d / "whole.pt")
    torch.save({"model.1.weight": torch.zeros(2, 3, 7, 7)}, d / "latest_net_G_A.pth")
    (d / "digits").mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(d / "digits" / f"{i}.png")
    return d


GAN = ["train", "gan", "--width", "4", "--latent-dim", "4", "--batch-size", "4", "--steps", "1", "--no-progress"]
CASES = [
    # model-dependent smallest image side (item 4)
    ([*GAN, "--model", "mlp", "--image-size", "3"], "--image-size 3: --model mlp needs images of at least 8 px"),
    ([*GAN, "--model", "dcgan", "--image-size", "4"], "--image-size 4: --model dcgan needs images of at least 8"),
    ([*GAN, "--model", "cgan", "--backbone", "mlp", "--image-size", "7"], "--model cgan needs images of at least 8"),
    ([*GAN, "--model", "lapgan", "--image-size", "12"], "--model lapgan needs images of at least 14 px"),
    ([*GAN, "--model", "videogan", "--data", "moving-mnist", "--image-size", "8"], "--model videogan needs images"),
    ([*GAN, "--model", "mlp", "--data", "synthetic:1x4x4:8"], "--data synthetic:1x4x4:8 (4 px images)"),
    (["train", "classifier", "--image-size", "4", "--steps", "1", "--no-progress"], "pass --image-size 8 or more"),
    # files that are not checkpoints (item 6)
    (["sample", "g.onnx"], "it is an ONNX model"), (["sample", "temps.csv"], "it is a CSV table"),
    (["sample", "notes.txt"], "it is a text file"), (["serve", "notes.txt"], "it is a text file"),
    (["sample", "weights.pt"], "without ganforge's meta"), (["eval", "whole.pt"], "pickles Python objects"),
    (["translate", "latest_net_G_A.pth", "x.png", "-o", "y.png"], "ganforge import cyclegan latest_net_G_A.pth"),
    (["export", "g.onnx", "-o", "x.safetensors"], "it is an ONNX model"),
    (["import", "cyclegan", "temps.csv", "-o", "imp"], "it is a CSV table"),
    (["import", "cyclegan", "g.onnx", "-o", "imp"], "it is an ONNX model"),
    (["upscale", "notes.txt", "x.png", "-o", "y.png"], "it is a text file"),
    # train gan --eval-every names its own flag (item 8)
    ([*GAN, "--model", "mlp", "--data", "folder:digits", "--channels", "1", "--image-size", "28", "--eval-every", "1"],
     "pass --eval-extractor inception"),
    ([*GAN, "--model", "mlp", "--eval-every", "1", "--eval-extractor", "classifier:nosuch.pt"],
     "--eval-extractor classifier:nosuch.pt: checkpoint nosuch.pt does not exist"),
    ([*GAN, "--model", "mlp", "--eval-every", "1", "--eval-extractor", "bogus"], "unknown extractor --eval-extractor"),
    ([*GAN, "--model", "mlp", "--data", "synthetic:3x32x32:8", "--eval-every", "1", "--eval-extractor", "classifier"],
     "--eval-extractor classifier:CKPT"),
    # the datasets list and its downloads (item 9)
    (["datasets", "download", "horse2zebr"], "cezanne2photo, cifar10, facades"),   # CycleGAN sets listed too
]


@pytest.mark.parametrize("argv, expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_one_error_line_and_exit_2(argv, expected, F, monkeypatch, capsys):
    monkeypatch.chdir(F)
    argv = argv + (["--out", str(F / "runs")] if argv[0] == "train" else [])
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "weights_only" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and expected in lines[0], err
