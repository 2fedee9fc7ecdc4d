"""`ganforge import cyclegan`: generators laid out as the CycleGAN reference implementation saves
them (its ResnetGenerator, rebuilt here from its documented structure) translate exactly as the
reference network does."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from ganforge.cli import main

NGF = 4


class RefBlock(nn.Module):
    """The reference ResnetBlock: x + conv_block(x), conv_block = pad, conv3x3, IN, ReLU, [dropout], pad, conv, IN."""

    def __init__(self, dim: int, dropout: bool = False):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True)]
        layers += [nn.Dropout(0.5)] if dropout else []
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class RefGenerator(nn.Module):
    """The reference ResnetGenerator with norm_layer=InstanceNorm2d (affine=False, no running stats),
    hence use_bias=True; keys model.N... as in latest_net_G_A.pth."""

    def __init__(self, ngf: int = NGF, n_blocks: int = 6, dropout: bool = False):
        super().__init__()
        model = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, padding=0, bias=True), nn.InstanceNorm2d(ngf),
                 nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True),
                      nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        model += [RefBlock(ngf * 4, dropout) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1,
                                         bias=True), nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)
        for p in self.parameters():   # random, non-zero biases: a mapping error cannot hide
            nn.init.normal_(p, 0, 0.2)

    def forward(self, x):
        return self.model(x)


def _save_reference(path, seed: int, n_blocks: int = 6, old_buffers: bool = False, dropout: bool = False):
    torch.manual_seed(seed)
    ref = RefGenerator(NGF, n_blocks, dropout).eval()
    state = ref.state_dict()
    if old_buffers:   # files from older PyTorch carry instance-norm buffers that the reference loader drops
        for i in (2, 5, 8):
            c = state[f"model.{i - 1}.weight"].shape[0]
            state[f"model.{i}.running_mean"], state[f"model.{i}.running_var"] = torch.zeros(c), torch.ones(c)
            state[f"model.{i}.num_batches_tracked"] = torch.tensor(0)
    torch.save(state, path)
    return ref


def _photos(folder):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for name, (h, w) in (("a.png", (32, 40)), ("b.png", (36, 28)), ("c.png", (24, 24))):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / name)
    return folder


@pytest.mark.parametrize("n_blocks,old_buffers,dropout", [(6, False, False), (9, True, True)])
def test_imported_generators_equal_the_reference_network(tmp_path, n_blocks, old_buffers, dropout, capsys):
    from ganforge.api import load
    from ganforge.data import to_float, to_uint8

    ref_a = _save_reference(tmp_path / "G_A.pth", 0, n_blocks, old_buffers, dropout)
    ref_b = _save_reference(tmp_path / "G_B.pth", 1, n_blocks, old_buffers, dropout)
    gen = f"resnet-{n_blocks}"
    assert main(["import", "cyclegan", str(tmp_path / "G_A.pth"), str(tmp_path / "G_B.pth"), "--generator", gen,
                 "-o", str(tmp_path / "run")]) == 0
    assert f"{gen}, width {NGF}" in capsys.readouterr().out
    tr = load(tmp_path / "run", "cyclegan")
    x = torch.rand(2, 3, 32, 44) * 2 - 1
    with torch.no_grad():
        for direction, ref in (("AtoB", ref_a), ("BtoA", ref_b)):
            assert (tr.translate(x, direction) - ref(x)).abs().max() < 1e-6
    # the CLI on a folder: the written PNGs are the reference's output, quantised the same way
    src = _photos(tmp_path / "photos")
    assert main(["translate", str(tmp_path / "run"), str(src), "-o", str(tmp_path / "out")]) == 0
    for p in sorted(src.iterdir()):
        img = torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1)[None]
        with torch.no_grad():
            want = ref_a(to_float(img))
        got = torch.from_numpy(np.array(Image.open(tmp_path / "out" / p.name))).permute(2, 0, 1)[None]
        assert (got.int() - to_uint8(want).int()).abs().max() <= 1, p.name   # rounding ties only
        assert (to_float(got) - want).abs().max() < 1 / 127.5 + 1e-6


def test_one_generator_imports_and_other_uses_work(tmp_path, capsys):
    from ganforge.api import load

    ref = _save_reference(tmp_path / "latest_net_G_A.pth", 3)
    assert main(["import", "cyclegan", str(tmp_path / "latest_net_G_A.pth"), "-o", str(tmp_path / "run"),
                 "--size", "32"]) == 0
    tr = load(tmp_path / "run", "cyclegan")
    assert list(tr.nets) == ["AtoB"] and tr.config.generator == "resnet-6" and tr.config.norm == "instance"
    x = torch.rand(1, 3, 24, 24) * 2 - 1
    with torch.no_grad():
        assert (tr.translate(x) - ref.eval()(x)).abs().max() < 1e-6
    assert main(["translate", str(tmp_path / "run"), str(_photos(tmp_path / "p")), "-o", "o", "--direction",
                 "BtoA"]) == 2
    assert "only the AtoB generator" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "run"), "--num", "4"]) == 0   # one direction: no cycle to measure
    out = capsys.readouterr().out
    assert "AtoB_psnr_truth" in out and "BtoA" not in out and "cycle" not in out
    assert main(["export", str(tmp_path / "run"), "-o", str(tmp_path / "g.safetensors")]) == 0
    back = load(tmp_path / "g.safetensors", "cyclegan")
    assert torch.equal(back.translate(x), tr.translate(x))


def test_files_that_are_not_one_cyclegan_are_refused(tmp_path, capsys):
    _save_reference(tmp_path / "a.pth", 0)                       # resnet-6, width 4
    torch.manual_seed(0)
    torch.save(RefGenerator(8, 6).state_dict(), tmp_path / "wide.pth")
    bn = RefGenerator(NGF, 6).state_dict()                        # the reference's --norm batch: 1-D norm weights
    bn.update({"model.2.weight": torch.ones(NGF), "model.2.bias": torch.zeros(NGF)})
    torch.save(bn, tmp_path / "bn.pth")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "checkpoint.pt").write_text("x")
    for argv, msg in (([str(tmp_path / "a.pth"), "--generator", "resnet-9"], "has 6 residual blocks"),
                      ([str(tmp_path / "a.pth"), str(tmp_path / "wide.pth")], "not one CycleGAN"),
                      ([str(tmp_path / "bn.pth")], "batch norm"),
                      ([str(tmp_path / "a.pth"), "-o", str(tmp_path / "taken")], "exists already")):
        out = [] if "-o" in argv else ["-o", str(tmp_path / "new")]
        assert main(["import", "cyclegan", *argv, *out]) == 2
        assert msg in capsys.readouterr().err
