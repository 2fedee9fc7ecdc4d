"""Weights that travel: any ganforge checkpoint as safetensors (with a JSON model card in its
metadata, loadable back with ganforge.load), an ONNX graph or a TorchScript module.

    write_safetensors(ckpt, "g.safetensors")        # the inference nets + config + model card
    g = graph(ganforge.load(ckpt_path))             # (module, example inputs, names) of any model
    export_graph(g, "g.onnx", "onnx")               # then parity(g, "g.onnx", "onnx") -> max |diff|

What a graph is depends on what the loaded model can do (the DESIGN's dispatch on abilities):
`.translate` (CycleGAN: one generator), `.sample` (GAN: z, label or codes -> images),
`.upscale` (super-resolution), `.forecast` (forecaster: scaled windows -> scaled forecasts),
`.logits` (classifier).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from ..errors import UserError
from ..nn.checkpoint import ST_FORMAT

FORMATS = ("safetensors", "onnx", "torchscript")
SUFFIXES = {".safetensors": "safetensors", ".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript",
            ".torchscript": "torchscript"}


def format_for(path, fmt: str | None) -> str:
    """The export format: `fmt`, else the one the output name's suffix implies."""
    from pathlib import Path

    if fmt is not None:
        if fmt not in FORMATS:
            raise UserError(f"unknown export format {fmt!r}; choose from: {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"cannot tell the format from {path!r}: pass --format {'|'.join(FORMATS)}")
    return SUFFIXES[suffix]


# ----------------------------------------------------------------------------- safetensors

def _loader(ckpt: dict):
    from ..tasks import task_module

    return task_module(ckpt["task"]).LOADER


def inference_modules(ckpt: dict) -> list[str]:
    """The module names a loader needs (no discriminators, no optimiser state): the task's loader says."""
    return _loader(ckpt).inference_modules(ckpt["modules"])


def model_card(ckpt: dict) -> dict:
    """What a person (or another program) needs to use the weights: architecture, config,
    input/output shapes and value ranges, classes, the ganforge version that wrote them."""
    from ..version import __version__

    cfg, meta, task = ckpt["config"], ckpt["meta"], ckpt["task"]
    arch = cfg.get("model") or cfg.get("generator") or task
    return {"ganforge_version": __version__, "task": task, "architecture": arch, "step": ckpt["step"], "modules": inference_modules(ckpt), "config": cfg, "classes": meta.get("classes"),
            **_loader(ckpt).card_io(cfg, meta)}


def _json(value, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=True, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    except (TypeError, ValueError) as e:
        raise UserError(f"cannot write the checkpoint's {what} as JSON ({e})") from None


def write_safetensors(ckpt: dict, path) -> None:
    """The inference nets' tensors as `module.param` keys; metadata: the model card and the
    checkpoint's task, config, meta and step (what ganforge.load rebuilds the model from)."""
    from ..files import write_output
    from ..optional import require

    st = require("safetensors", "export --format safetensors")
    import safetensors.torch  # noqa: F401  (the torch half of the package)

    tensors = {f"{name}.{k}": v.detach().cpu().contiguous().clone()
               for name in inference_modules(ckpt) for k, v in ckpt["modules"][name].items()
               if isinstance(v, torch.Tensor)}
    header = {"task": ckpt["task"], "config": ckpt["config"], "meta": dict(ckpt["meta"]), "step": ckpt["step"]}
    metadata = {"format": ST_FORMAT, "checkpoint": _json(header, "config"), "model_card": _json(model_card(ckpt),
                                                                                                  "model card")}
    data = st.torch.save(tensors, metadata=metadata)
    write_output(path, lambda f: f.write(data))


# ----------------------------------------------------------------------------- ONNX / TorchScript

@dataclass
class Graph:
    """A traceable module with example inputs: what ONNX and TorchScript export."""
    module: nn.Module
    inputs: tuple
    input_names: list
    output_names: list
    dynamic: dict = field(default_factory=dict)   # input/output name -> {axis: name}
    note: str = ""
    reference: nn.Module | None = None   # what the export is checked against, when not `module` itself


class _Call(nn.Module):
    """Wraps a net whose forward takes optional conditions so that a trace sees plain tensors."""

    def __init__(self, net: nn.Module, conditional: bool):
        super().__init__()
        self.net, self.conditional = net, conditional

    def forward(self, z, c=None):
        return self.net(z, c if self.conditional else None)


class _UnrolledGRU(nn.Module):
    """ganforge.nn.GRU's maths as plain ops over the time steps (its fused autograd Function and
    C kernel cannot be traced). Same parameters; (B, T, I) -> (y (B, T, H), h_n (L, B, H))."""

    def __init__(self, gru):
        super().__init__()
        self.gru = gru

    def forward(self, x, h0=None):
        from ..nn.gru import gru_step

        g = self.gru
        finals = []
        for i in range(g.num_layers):
            w_ih, w_hh, b_ih, b_hh = g.layer(i)
            h = (x[:, 0, :1] * 0).repeat(1, g.hidden_size)   # zeros whose batch size the trace keeps dynamic
            gi = nn.functional.linear(x, w_ih, b_ih)
            states = []
            for t in range(x.shape[1]):
                h = gru_step(gi[:, t], h, w_hh, b_hh, g.reset_after)
                states.append(h)
            x = torch.stack(states, 1)
            finals.append(h)
        return (x if g.return_sequences else finals[-1]), torch.stack(finals)


def graph(model, direction: str = "AtoB", batch: int = 2) -> Graph:
    """The exportable graph of any loaded ganforge model, by what it can do."""
    g = torch.Generator().manual_seed(0)
    batch_axis = {0: "batch"}
    if hasattr(model, "translate"):
        net, s = model.generator(direction), model.image_size
        axes = {0: "batch", 2: "height", 3: "width"}
        x = torch.rand(batch, 3, s, s, generator=g) * 2 - 1
        return Graph(net, (x,), ["image"], ["translated"], {"image": axes, "translated": axes},
                     f"{direction} generator; H and W multiples of 4")
    if hasattr(model, "upscale"):   # super-resolution: a fully convolutional net, any input size
        axes = {0: "batch", 2: "height", 3: "width"}
        x = torch.rand(batch, 3, 16, 16, generator=g) * 2 - 1
        return Graph(model.net, (x,), ["image"], ["upscaled"], {"image": axes, "upscaled": axes},
                     f"x{model.scale}; values in [-1, 1]")
    if hasattr(model, "sample"):
        net = model.net
        z = torch.randn(batch, model.latent_dim, generator=g)
        c = model.hooks.sample_condition(batch, generator=g)   # random conditions of the family's kind
        if c is None:
            return Graph(_Call(net, False), (z,), ["z"], ["image"], {"z": batch_axis, "image": batch_axis})
        return Graph(_Call(net, True), (z, c), ["z", "c"], ["image"],
                     {"z": batch_axis, "c": batch_axis, "image": batch_axis})
    if hasattr(model, "forecast"):
        from ..nn.gru import GRU

        net = copy.deepcopy(model.net)
        for i, layer in enumerate(net.layers):
            if isinstance(layer, GRU):
                net.layers[i] = _UnrolledGRU(layer)
        x = torch.rand(batch, model.window, net.n_inputs, generator=g)
        return Graph(net, (x,), ["window"], ["forecast"], {"window": batch_axis, "forecast": batch_axis},
                     "inputs and outputs in the checkpoint's scaled units", reference=model.net)
    if hasattr(model, "logits"):
        x = torch.rand(batch, *model.image_shape, generator=g) * 2 - 1
        return Graph(model.net, (x,), ["image"], ["logits"], {"image": batch_axis, "logits": batch_axis})
    raise UserError(f"{type(model).__name__} models cannot be exported as a graph yet")


OPSETS = (17, 20)   # 17 runs nearly everywhere; 20 adds what some nets need (the video GAN's affine_grid)


def _export_onnx(gr: Graph, path) -> int:
    """torch.onnx.export at the first opset of OPSETS that exports `gr`; returns it. A failed try is
    quiet: torch's exporter enables its log whatever `verbose` says and prints the whole IR graph
    ("Torch IR graph at exception", hundreds of lines) on the way to the exception we catch."""
    from torch import _C

    log = _C._jit_onnx_log
    _C._jit_onnx_log = lambda *args: None
    try:
        for opset in OPSETS:
            try:
                torch.onnx.export(gr.module, gr.inputs, str(path), input_names=gr.input_names,
                                  output_names=gr.output_names, dynamic_axes=gr.dynamic, opset_version=opset,
                                  dynamo=False)
                return opset
            except torch.onnx.errors.UnsupportedOperatorError as e:
                if opset == OPSETS[-1]:
                    raise UserError(f"this model cannot be exported as ONNX: {str(e).splitlines()[0]}") from None
    finally:
        _C._jit_onnx_log = log


def _stamp_opset(path, opset: int) -> None:
    """Record the opset in the ONNX file's own metadata (metadata_props "ganforge_opset"), beside the
    opset_import every runtime reads."""
    import onnx

    model = onnx.load(str(path))
    entry = model.metadata_props.add()
    entry.key, entry.value = "ganforge_opset", str(opset)
    onnx.save(model, str(path))


def onnx_opset(path) -> int:
    """The default-domain opset of an ONNX file."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def export_graph(gr: Graph, path, fmt: str) -> int | None:
    """Write `gr` as ONNX (opset 17, or 20 where 17 lacks an operator; dynamic axes) or TorchScript
    (traced) to `path` (temp + rename). Returns the ONNX opset (None for TorchScript)."""
    import tempfile
    import warnings
    from pathlib import Path

    from ..files import write_output
    from ..optional import require

    if fmt == "onnx":
        require("onnx", "ganforge export --format onnx")
    gr.module.eval()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")   # tracer and exporter warnings about python values and norms' modes
        tmp_path = Path(tmp) / f"model.{fmt}"
        if fmt == "onnx":
            opset = _export_onnx(gr, tmp_path)
            _stamp_opset(tmp_path, opset)
        elif fmt == "torchscript":
            torch.jit.save(torch.jit.trace(gr.module, gr.inputs, check_trace=False), str(tmp_path))
        else:
            raise UserError(f"unknown graph format {fmt!r}")
        data = tmp_path.read_bytes()
    write_output(path, lambda f: f.write(data))
    return opset if fmt == "onnx" else None


@torch.no_grad()
def parity(gr: Graph, path, fmt: str, batch: int = 3) -> float | None:
    """Max |exported - PyTorch| on a fresh random input of another batch size (None: onnxruntime
    missing); PyTorch is the loaded model's own net (the forecaster's fused GRU, not the unrolled
    copy that was traced). Integer inputs (labels) are drawn in their own range."""
    g = torch.Generator().manual_seed(1)
    inputs = []
    for x in gr.inputs:
        if x.dtype in (torch.int64, torch.int32):
            inputs.append(torch.randint(0, int(x.max()) + 1, (batch, *x.shape[1:]), generator=g))
        elif len(gr.inputs) > 1 and x is gr.inputs[-1] and gr.input_names[-1] == "c":
            inputs.append(x[:1].repeat(batch, *([1] * (x.ndim - 1))))   # codes: keep a valid one-hot part
        else:
            lo, hi = float(x.min()), float(x.max())
            inputs.append(torch.rand(batch, *x.shape[1:], generator=g) * (hi - lo) + lo)
    want = (gr.reference if gr.reference is not None else gr.module).eval()(*inputs).float()
    if fmt == "torchscript":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # deprecated, still what many runtimes load
            got = torch.jit.load(str(path))(*inputs).float()
    else:
        try:
            import onnxruntime as ort
        except ImportError:
            return None
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {n: x.numpy() for n, x in zip(gr.input_names, inputs)}
        got = torch.from_numpy(sess.run(None, feeds)[0]).float()
    return float((got - want).abs().max())
