"""The convolution -> activation -> pooling walk-through: named kernels, TF-style "same" / "valid"
padding, and one figure with each stage titled by its shape.

Like every deep-learning framework, "convolution" here is cross-correlation: the kernel is not
flipped, so sobel-x responds positively where the image gets brighter to the right.
All maps are float tensors (C, H, W); images come in as values in [0, 1].
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import UserError

KERNELS: dict[str, list[list[float]]] = {
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],            # the article's Laplacian-style kernel
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "sobel-x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel-y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "box-blur": [[1 / 9] * 3] * 3,
    "gaussian": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
ACTIVATIONS = {
    "relu": torch.relu,
    "leaky-relu": lambda x: F.leaky_relu(x, 0.2),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "none": lambda x: x,
}
POOLS = ("max", "avg")
PADDINGS = ("same", "valid")


def parse_kernel(text: str) -> torch.Tensor:
    """A kernel name from KERNELS or a nested list such as "[[0,1,0],[1,-4,1],[0,1,0]]" -> (kh, kw)."""
    if text in KERNELS:
        return torch.tensor(KERNELS[text], dtype=torch.float32)
    hint = f"--kernel must be one of {', '.join(KERNELS)} or a matrix like \"[[0,1,0],[1,-4,1],[0,1,0]]\""
    if not text.strip().startswith("["):
        raise UserError(f"unknown kernel {text!r}; {hint}")
    try:
        rows = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise UserError(f"cannot parse kernel {text!r}; {hint}") from None
    if isinstance(rows, (list, tuple)) and rows and all(isinstance(v, (int, float)) for v in rows):
        rows = [rows]   # a single row "[1, 0, -1]"
    ok = (isinstance(rows, (list, tuple)) and rows and all(isinstance(r, (list, tuple)) and r for r in rows)
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for r in rows for v in r))
    if not ok:
        raise UserError(f"kernel {text!r} is not a matrix of numbers; {hint}")
    if len({len(r) for r in rows}) != 1:
        raise UserError(f"kernel {text!r} has rows of different lengths {[len(r) for r in rows]}")
    k = torch.tensor(rows, dtype=torch.float32)
    if not torch.isfinite(k).all():
        raise UserError(f"kernel {text!r} holds inf or nan")
    return k


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding: output ceil(size / stride); the odd extra pixel goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def convolve(x: torch.Tensor, kernel: torch.Tensor, padding: str = "same") -> torch.Tensor:
    """Apply one (kh, kw) kernel to each channel of x (C, H, W) with stride 1, zero padding.

    Returns (C, H, W) for "same", (C, H-kh+1, W-kw+1) for "valid".
    """
    c, h, w = x.shape
    kh, kw = kernel.shape
    if kh > h or kw > w:
        raise UserError(f"the {kh}x{kw} kernel is larger than the {h}x{w} image")
    if padding == "same":
        (t, b), (l, r) = _same_pads(h, kh, 1), _same_pads(w, kw, 1)
        x = F.pad(x, (l, r, t, b))
    weight = kernel.to(x.dtype).expand(c, 1, kh, kw)
    return F.conv2d(x[None], weight, groups=c)[0]


def activate(x: torch.Tensor, name: str) -> torch.Tensor:
    if name not in ACTIVATIONS:
        raise UserError(f"unknown activation {name!r}; choose from: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name](x)


def pool(x: torch.Tensor, kind: str = "max", size: int = 2, stride: int | None = None,
         padding: str = "same") -> torch.Tensor:
    """Max or average pooling of x (C, H, W) with a size x size window.

    "valid": (C, (H-size)//stride+1, ...). "same": (C, ceil(H/stride), ...); padded cells are
    ignored (max over real cells, average over real cells only), as in TensorFlow.
    """
    stride = stride or size
    if kind not in POOLS:
        raise UserError(f"unknown pooling {kind!r}; choose from: {', '.join(POOLS)}")
    if size < 1 or stride < 1:
        raise UserError(f"--pool-size and --stride must be positive, got {size} and {stride}")
    _, h, w = x.shape
    if size > h or size > w:
        raise UserError(f"the {size}x{size} pooling window is larger than the {h}x{w} feature map")
    if padding == "valid":
        fn = F.max_pool2d if kind == "max" else F.avg_pool2d
        return fn(x[None], size, stride)[0]
    (t, b), (l, r) = _same_pads(h, size, stride), _same_pads(w, size, stride)
    if kind == "max":
        return F.max_pool2d(F.pad(x[None], (l, r, t, b), value=-math.inf), size, stride)[0]
    total = F.avg_pool2d(F.pad(x[None], (l, r, t, b)), size, stride, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(x[None, :1]), (l, r, t, b)), size, stride, divisor_override=1)
    return (total / count)[0]


@dataclass
class Stage:
    title: str
    data: torch.Tensor   # (C, H, W)

    @property
    def shape_text(self) -> str:
        c, h, w = self.data.shape
        return f"{h}x{w}x{c}"


def load_picture(path: str | None, size: int = 300, color: bool = False) -> tuple[torch.Tensor, str]:
    """An image file (or the embedded astronaut photo when path is None) -> ((C, size, size) in [0, 1], name)."""
    import numpy as np

    from ..data.images import builtin_photos, read_image

    channels = 3 if color else 1
    if path is None:
        name, src = "astronaut (embedded)", builtin_photos()["astronaut"]
    else:
        name, src = Path(path).name, Path(path)
        if not src.is_file():
            raise UserError(f"image {src} " + ("is a folder, not an image file" if src.is_dir() else "does not exist"))
    if size < 1:
        raise UserError(f"--size must be positive, got {size}")
    from PIL import Image

    img = read_image(src, channels).resize((size, size), Image.BILINEAR)   # the article resizes, no crop
    arr = np.asarray(img, np.float32).reshape(size, size, channels) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous(), name


def explore(image: torch.Tensor, kernel: torch.Tensor, activation: str = "relu", pool_kind: str = "max",
            pool_size: int = 2, stride: int = 2, padding: str = "same") -> list[Stage]:
    """original -> convolution -> activation -> pooling, each stage a (C, H, W) map."""
    if padding not in PADDINGS:
        raise UserError(f"--padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    conv = convolve(image, kernel, padding)
    act = activate(conv, activation)
    pooled = pool(act, pool_kind, pool_size, stride, padding)
    k = "x".join(map(str, kernel.shape))
    return [Stage("original", image), Stage(f"convolution ({k} kernel, {padding})", conv),
            Stage(f"activation ({activation})", act),
            Stage(f"{pool_kind} pooling ({pool_size}x{pool_size}, stride {stride}, {padding})", pooled)]


def _displayable(x: torch.Tensor):
    """(C, H, W) -> (H, W) or (H, W, 3) in [0, 1], scaled between the 0.5% and 99.5% quantiles:
    negative responses show, and a few very strong edges do not leave the rest black."""
    flat = x.flatten()[:: max(1, x.numel() // 1_000_000)]   # torch.quantile caps its input size
    lo, hi = torch.quantile(flat, torch.tensor([0.005, 0.995]))
    y = ((x - lo) / (hi - lo)).clamp(0, 1) if hi > lo else torch.zeros_like(x)
    y = y.permute(1, 2, 0).numpy()
    return y[..., 0] if y.shape[2] == 1 else y


def save_figure(stages: list[Stage], path, suptitle: str = "") -> Path:
    """One row of panels, each titled with its stage and shape (H x W x C)."""
    from . import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, len(stages), figsize=(4.2 * len(stages), 4.9), layout="constrained")
    for ax, st in zip(axes, stages):
        ax.imshow(_displayable(st.data), cmap="gray", interpolation="nearest")
        ax.set_title(f"{st.title}\n{st.shape_text}", fontsize=10)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    from ..files import save_figure as write_figure

    try:
        write_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
    return Path(path)
