"""--device on the commands that use a checkpoint (issue 29, item 3): `--device cpu` works for each,
`--device cuda` is one line and exit 2 where torch sees no CUDA, and ganforge.load(..., device=)
puts a model's nets on the device while its results come back on the CPU. The same commands on
`--device cuda` are in test_gpu.py (gpu marker)."""
import argparse

import pytest
import torch

import ganforge
from ganforge.cli import DEVICE_HELP, build_parser, main
from ganforge.errors import UserError
from tiny_models import command_argv, command_runs

COMMANDS = ["sample", "translate", "upscale", "eval", "forecast", "serve"]
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing to refuse")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return command_runs(tmp_path_factory.mktemp("device"))


def test_each_checkpoint_command_has_the_flag():
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in COMMANDS:
        action = subs.choices[name]._option_string_actions["--device"]
        assert action.default == "auto" and action.help == DEVICE_HELP, name


@pytest.mark.parametrize("command", COMMANDS)
def test_device_cpu_works(command, runs, tmp_path, monkeypatch, capsys):
    served = {}
    if command == "serve":   # everything up to the server: checkpoints loaded, the page built
        monkeypatch.setattr("ganforge.use.serve.launch", lambda app, *a, **k: served.update(app=app))
        monkeypatch.setattr("ganforge.use.serve.build_app", lambda models, *a: served.update(models=models) or "app")
        monkeypatch.setattr("ganforge.optional.require", lambda *a: None)   # gradio's import: seconds, unused here
    assert main(command_argv(command, runs, tmp_path) + ["--device", "cpu"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if command == "eval":
        assert "16 generated vs" in out and "classifier-FID" in out
    elif command == "serve":
        assert served["app"] == "app"
        assert {m.device for m in served["models"].values()} == {torch.device("cpu")}
    else:
        assert next(tmp_path.iterdir()).stat().st_size > 0


@no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
@pytest.mark.parametrize("command", COMMANDS)
def test_device_cuda_is_refused_without_cuda(command, device, runs, tmp_path, capsys):
    assert main(command_argv(command, runs, tmp_path) + ["--device", device]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: --device {device}: this machine has no CUDA GPU")
    assert not any(tmp_path.iterdir())   # refused before anything is written


def test_a_device_that_is_no_device_is_one_line(runs, tmp_path, capsys):
    assert main(command_argv("sample", runs, tmp_path) + ["--device", "gpu"]) == 2
    assert capsys.readouterr().err == "error: --device must be auto, cpu, cuda, cuda:N or mps, got 'gpu'\n"


def test_auto_is_the_cpu_without_cuda(runs, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: auto means it")
    assert main(command_argv("sample", runs, tmp_path)) == 0   # --device auto, the default
    gen = ganforge.load(runs["gan"], device="auto")
    assert gen.device == torch.device("cpu")


def test_load_on_a_device(runs, tmp_path):
    gen = ganforge.load(runs["gan"], device="cpu")
    assert gen.device == torch.device("cpu") and next(gen.net.parameters()).device == gen.device
    a = gen.sample(3, seed=2)
    assert a.device.type == "cpu" and torch.equal(a, ganforge.load(runs["gan"]).sample(3, seed=2))
    assert ganforge.load(runs["forecaster"], device=torch.device("cpu")).device.type == "cpu"
    with pytest.raises(UserError, match="--device must be"):
        ganforge.load(runs["gan"], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="--device cuda: this machine has no CUDA GPU"):
            ganforge.load(runs["gan"], device="cuda")


def test_an_export_folder_loads_on_a_device(runs, tmp_path, capsys):
    folder = tmp_path / "hf"
    assert main(["export", str(runs["sr"]), "--format", "hf", "-o", str(folder)]) == 0
    up = ganforge.load(folder, device="cpu")
    assert up.device.type == "cpu" and (folder / "model.safetensors").is_file()
    lr = torch.randint(0, 256, (1, 3, 8, 8), dtype=torch.uint8)
    assert torch.equal(up.upscale(lr), ganforge.load(runs["sr"]).upscale(lr))
    if not torch.cuda.is_available():
        assert main(["upscale", str(folder), str(runs["photo"]), "-o", str(tmp_path / "x.png"), "--device",
                     "cuda"]) == 2
