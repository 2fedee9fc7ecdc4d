"""The conv explorer: kernels against hand-computed sums, padding rules, pooling shapes, CLI."""
import numpy as np
import pytest
import torch

from ganforge.viz import conv
from ganforge.cli import main
from ganforge.errors import UserError


def hand_conv(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Cross-correlation with zero 'same' padding (odd kernels), written as explicit loops."""
    kh, kw = k.shape
    ph, pw = kh // 2, kw // 2
    p = np.pad(img, ((ph, ph), (pw, pw)))
    out = np.zeros_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            out[i, j] = sum(p[i + a, j + b] * k[a, b] for a in range(kh) for b in range(kw))
    return out


@pytest.mark.parametrize("name", list(conv.KERNELS))
def test_each_kernel_matches_hand_computed(name):
    img = np.random.default_rng(0).random((6, 7)).astype(np.float32)
    got = conv.convolve(torch.from_numpy(img)[None], conv.parse_kernel(name), "same")[0].numpy()
    np.testing.assert_allclose(got, hand_conv(img, np.array(conv.KERNELS[name], np.float32)), atol=1e-5)


def test_edge_kernel_by_hand_and_valid_padding():
    img = torch.zeros(1, 5, 5)
    img[0, 2, 2] = 1.0
    out = conv.convolve(img, conv.parse_kernel("edge"), "valid")
    assert out.shape == (1, 3, 3)
    expected = torch.full((3, 3), -1.0)
    expected[1, 1] = 8.0
    assert torch.equal(out[0], expected)
    # sobel-x is not flipped: brighter to the right gives a positive response
    ramp = torch.arange(5.0).repeat(5, 1)[None]
    assert (conv.convolve(ramp, conv.parse_kernel("sobel-x"), "valid") == 8).all()


def test_even_kernel_same_padding_keeps_size():
    x = torch.arange(16.0).view(1, 4, 4)
    out = conv.convolve(x, torch.ones(2, 2), "same")   # TF puts the extra row/column of padding after
    assert out.shape == (1, 4, 4)
    assert out[0, 0, 0] == 0 + 1 + 4 + 5 and out[0, 3, 3] == 15


def test_parse_kernel_matrix_and_errors():
    assert torch.equal(conv.parse_kernel("[[1, 2], [3, 4]]"), torch.tensor([[1.0, 2], [3, 4]]))
    for bad in ("[[1,2],[3]]", "[[1,'a']]", "[[1,2", "blurr", "[]", "[[True]]"):
        with pytest.raises(UserError):
            conv.parse_kernel(bad)


@pytest.mark.parametrize("size,stride,padding,expected", [
    (2, 2, "same", (4, 4)), (2, 2, "valid", (3, 3)), (3, 2, "same", (4, 4)), (3, 2, "valid", (3, 3)),
    (3, 3, "same", (3, 3)), (3, 3, "valid", (2, 2)), (2, 1, "same", (7, 7)), (2, 1, "valid", (6, 6))])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_shapes(kind, size, stride, padding, expected):
    out = conv.pool(torch.randn(2, 7, 7), kind, size, stride, padding)
    assert out.shape == (2, *expected)


def test_same_pooling_ignores_padding():
    x = torch.arange(9.0).view(1, 3, 3) - 10   # all negative: a zero pad would win a max
    assert conv.pool(x, "max", 2, 2, "same")[0, 1, 1] == x[0, 2, 2]
    assert conv.pool(x, "avg", 2, 2, "same")[0, 1, 1] == x[0, 2, 2]
    assert conv.pool(x, "avg", 2, 2, "same")[0, 0, 0] == x[0, :2, :2].mean()


def test_window_or_kernel_bigger_than_map():
    with pytest.raises(UserError, match="pooling window"):
        conv.pool(torch.randn(1, 3, 3), "max", 4, 4, "same")
    with pytest.raises(UserError, match="larger than"):
        conv.convolve(torch.randn(1, 2, 2), conv.parse_kernel("edge"))


def test_cli_conv_default_photo(capsys):
    assert main(["conv", "--size", "64", "-o", "st.png", "--save-arrays", "st.npz"]) == 0
    out = capsys.readouterr().out
    assert "64x64x1" in out and "32x32x1" in out
    arrays = np.load("st.npz")
    assert arrays["pooling"].shape == (32, 32, 1) and arrays["original"].shape == (64, 64, 1)
    from PIL import Image
    assert Image.open("st.png").size[0] > 400


def test_cli_conv_color_valid_custom(tmp_path, capsys):
    from PIL import Image
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)).save("p.png")
    assert main(["conv", "p.png", "--color", "--size", "16", "--kernel", "[[1,0],[0,-1]]", "--padding", "valid",
                 "--pool", "avg", "--pool-size", "3", "-o", "c.png"]) == 0
    assert "15x15x3" in capsys.readouterr().out and (tmp_path / "c.png").is_file()


@pytest.mark.parametrize("argv,msg", [
    (["conv", "missing.png"], "does not exist"),
    (["conv", "bad.png"], "cannot read image"),
    (["conv", "--kernel", "[[1,2],[3]]"], "different lengths"),
    (["conv", "--kernel", "[[1,2,3"], "cannot parse"),
    (["conv", "--size", "2"], "larger than the 2x2 image"),
    (["conv", "--size", "5", "--kernel", "[[1]]", "--pool-size", "6"], "pooling window"),
])
def test_cli_conv_bad_input(argv, msg, capsys):
    open("bad.png", "w").write("not an image")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and msg in err and "Traceback" not in err


def test_cli_choices_match_conv_module():
    from ganforge.commands import conv as command
    assert command.KERNELS == tuple(conv.KERNELS) and command.ACTIVATIONS == tuple(conv.ACTIVATIONS)
    assert command.POOLS == conv.POOLS and command.PADDINGS == conv.PADDINGS
