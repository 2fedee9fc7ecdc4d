"""Generators saved by the CycleGAN reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix,
`latest_net_G_A.pth`) as a ganforge CycleGAN checkpoint.

Its ResnetGenerator is one nn.Sequential called `model` (keys `model.N.weight`), with instance
norm without affine parameters, hence conv biases (use_bias=True):

    0 ReflectionPad2d(3)  1 Conv 7x7 ngf  2 IN  3 ReLU
    4 Conv 3x3 s2 2ngf  5 IN  6 ReLU      7 Conv 3x3 s2 4ngf  8 IN  9 ReLU
    10 .. 10+n-1 ResnetBlock: conv_block.{0 pad, 1 conv3x3, 2 IN, 3 ReLU, [4 Dropout], pad, conv3x3, IN}
    ConvTranspose 3x3 s2 p1 op1 -> 2ngf, IN, ReLU;  ConvTranspose -> ngf, IN, ReLU
    ReflectionPad2d(3), Conv 7x7 -> 3, Tanh

which is ganforge's ResnetGenerator with norm="instance", upsample="deconv" layer for layer (the
same convolutions in the same order, same padding), so the weights map one to one by order.
Files written by older PyTorch carry `running_mean` / `running_var` / `num_batches_tracked`
buffers of the instance norms, which the reference loader drops; so does this one.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn as nn

from .. import sniff
from ..errors import UserError

_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
_KEY = re.compile(r"^model\.(\d+)\.(?:conv_block\.(\d+)\.)?(weight|bias)$")
BLOCKS = {"resnet-6": 6, "resnet-9": 9}


def read_reference(path) -> dict[str, torch.Tensor]:
    """The generator state dict in a .pth file, norm buffers dropped; one UserError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"generator file {path} does not exist")
    wanted = "import cyclegan reads a generator file of the CycleGAN reference code (latest_net_G_A.pth)"
    kind = sniff.kind_of_bytes(path)   # ONNX, CSV, text, images: named before torch tries them
    if kind is not None:
        raise UserError(f"{path} is not a readable PyTorch file: it is {kind[0]}; {wanted}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:   # torch raises many types for corrupt or foreign files; its advice is not passed on
        raise UserError(f"{path} is not a readable PyTorch file: it is {sniff.unreadable(path, e)[0]}; {wanted}") \
            from None
    if isinstance(state, dict) and state.get("format") == "ganforge-checkpoint":
        raise UserError(f"{path} is not a state dict of tensors: it is a ganforge checkpoint already; use it as it is "
                        f"(ganforge translate / serve / eval {path})")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path} is not a state dict of tensors (a CycleGAN reference generator file is one)")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    return {k: v for k, v in state.items() if k.rpartition(".")[2] not in _NORM_BUFFERS}


def _convs(state: dict, path) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """(weight, bias) of every convolution in forward order, from `model.N[.conv_block.M].weight|bias` keys."""
    layers: dict[tuple[int, int], dict] = {}
    for key, value in state.items():
        m = _KEY.match(key)
        if m is None:
            raise UserError(f"{path} is not a CycleGAN reference ResnetGenerator state dict: unexpected key {key!r} "
                            "(expected model.N.weight, model.N.conv_block.M.weight, ...)")
        layers.setdefault((int(m[1]), int(m[2] or 0)), {})[m[3]] = value
    convs = []
    for index in sorted(layers):
        entry = layers[index]
        w = entry.get("weight")
        if w is None or w.ndim != 4:
            raise UserError(f"{path}: layer model.{index[0]} holds {tuple(entry)} with 1-D weights: a generator with "
                            "batch norm (--norm batch); only instance-norm generators (the CycleGAN default) import")
        convs.append((w, entry.get("bias")))
    return convs


def convert(state: dict, path="state dict", generator: str | None = None) -> tuple[dict, dict]:
    """A reference generator state dict -> (ganforge ResnetGenerator state dict, its settings:
    generator name and width). Shapes are checked layer by layer against the rebuilt network."""
    from ..models.cyclegan import ResnetGenerator

    convs = _convs(state, path)   # first: a file of another kind is named as such, not by its block count
    blocks = len({int(m[1]) for m in map(_KEY.match, state) if m and m[2] is not None})
    if generator is not None and BLOCKS.get(generator) != blocks:
        raise UserError(f"{path} has {blocks} residual blocks; --generator {generator} has {BLOCKS.get(generator)}")
    name = next((g for g, b in BLOCKS.items() if b == blocks), None)
    if name is None:
        raise UserError(f"{path} has {blocks} residual blocks; ganforge imports resnet-6 and resnet-9 generators")
    first, last = convs[0][0], convs[-1][0]
    if first.shape[1] != 3 or last.shape[0] != 3 or first.shape[-1] != 7:
        raise UserError(f"{path}: the generator maps {first.shape[1]} to {last.shape[0]} channels; ganforge's "
                        "CycleGAN translates RGB images (3 to 3)")
    width = first.shape[0]
    with torch.device("meta"):   # only the layout is needed here: no memory, no initialisation
        net = ResnetGenerator(3, 3, width, blocks, norm="instance", upsample="deconv")
    targets = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    names = {m: n for n, m in net.named_modules()}
    if len(targets) != len(convs):
        raise UserError(f"{path} holds {len(convs)} convolutions; a {name} generator has {len(targets)}")
    out = {}
    for i, (module, (w, b)) in enumerate(zip(targets, convs)):
        if tuple(w.shape) != tuple(module.weight.shape) or b is None or tuple(b.shape) != tuple(module.bias.shape):
            got = f"{tuple(w.shape)}, bias {None if b is None else tuple(b.shape)}"
            raise UserError(f"{path}: convolution {i} is {got}; a {name} of width {width} needs "
                            f"{tuple(module.weight.shape)} with a bias (instance norm, use_bias=True)")
        out[f"{names[module]}.weight"], out[f"{names[module]}.bias"] = w.float().clone(), b.float().clone()
    return out, {"generator": name, "width": int(width)}


def import_cyclegan(g_a, g_b=None, out="imported", generator: str | None = None, data: str | None = None,
                    size: int = 256) -> Path:
    """Write RUN_DIR/checkpoint.pt (task cyclegan: G from g_a, F from g_b when given) that translate,
    export, eval and serve use. `size`: the training crop size it records (the reference's 256)."""
    from .. import config as C
    from ..nn import checkpoint

    sd_a, settings = convert(read_reference(g_a), g_a, generator)
    modules = {"G": sd_a}
    if g_b is not None:
        sd_b, settings_b = convert(read_reference(g_b), g_b, generator)
        if settings_b != settings:
            raise UserError(f"{g_a} is a {settings['generator']} of width {settings['width']}, {g_b} a "
                            f"{settings_b['generator']} of width {settings_b['width']}: not one CycleGAN")
        modules["F"] = sd_b
    fields = dict(settings, norm="instance", upsample="deconv", skip="none", crop_size=size,
                  load_size=max(size, 286 * size // 256))
    if data:
        fields["data"] = data
    cfg = C.resolve(C.TASKS["cyclegan"], **fields)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {out} is a file, not a folder")
    if (out / "checkpoint.pt").exists():
        raise UserError(f"{out / 'checkpoint.pt'} exists already; choose another -o")
    out.mkdir(parents=True, exist_ok=True)
    sources = ", ".join(Path(p).name for p in (g_a, g_b) if p is not None)
    checkpoint.save(out / "checkpoint.pt", {
        "task": "cyclegan", "config": C.to_dict(cfg), "step": 0, "modules": modules, "optimizers": {},
        "meta": {"dataset": f"imported from {sources}", "image_size": size, "channels": 3},
        "extra": {}, "metrics": {}})
    return out / "checkpoint.pt"
