"""ganforge export CKPT --format safetensors|onnx|torchscript: weights that travel, for every kind of model."""
from __future__ import annotations

from ..errors import UserError

FORMATS = ("safetensors", "onnx", "torchscript")   # ganforge.use.export.FORMATS, repeated so --help needs no torch


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "export", "export any checkpoint (GAN, CycleGAN, classifier, forecaster) as safetensors "
                                   "with a model card, ONNX or TorchScript; graphs are checked against PyTorch",
                    "ganforge export runs/gan-0001 --format safetensors -o g.safetensors   # ganforge.load() reads it\n"
                    "ganforge export runs/cyclegan-0001 -o g.onnx --direction BtoA\n"
                    "ganforge export runs/classifier-0001 --format torchscript -o clf.pt")
    p.add_argument("checkpoint", help="a checkpoint file (or .safetensors export), or a run directory")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="default: from the -o suffix (.safetensors, .onnx, .pt/.ts), else onnx")
    p.add_argument("-o", "--output", required=True, help="file to write, e.g. g.onnx")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"],
                   help="CycleGAN: which generator (default AtoB)")
    p.set_defaults(func=_export)


def _export(args) -> int:
    from pathlib import Path

    from ..use import export as E
    from ..use.load import rebuild
    from ..nn import checkpoint
    from ..files import output_file

    out = output_file(args.output)
    fmt = args.format or (E.SUFFIXES.get(Path(args.output).suffix.lower(), "onnx"))
    ckpt = checkpoint.load(args.checkpoint)
    model = rebuild(ckpt)   # a checkpoint that cannot rebuild its model is refused before writing anything
    if ckpt["task"] == "cyclegan":
        model.generator(args.direction)
    if fmt == "safetensors":
        E.write_safetensors(ckpt, out)
        back = rebuild(checkpoint.load(out))   # round trip: the same outputs from the exported file
        a, b = E.graph(model, args.direction), E.graph(back, args.direction)
        with __import__("torch").no_grad():
            diff = float((a.module.eval()(*a.inputs) - b.module.eval()(*b.inputs)).abs().max())
        print(f"wrote {out} ({ckpt['task']}, {len(E.inference_modules(ckpt))} net(s), model card in the metadata); "
              f"ganforge.load of it: max abs diff {diff:.3g} against the checkpoint")
        return 0
    gr = E.graph(model, args.direction)
    E.export_graph(gr, out, fmt)
    diff = E.parity(gr, out, fmt)
    shapes = ", ".join(f"{n} {tuple(x.shape)}" for n, x in zip(gr.input_names, gr.inputs))
    check = ("onnxruntime not installed: not checked" if diff is None else
             f"max abs diff against PyTorch on a random input: {diff:.3g}")
    print(f"wrote {out} ({fmt}, {ckpt['task']}; inputs like {shapes}{'; ' + gr.note if gr.note else ''}); {check}")
    if diff is not None and not diff <= 1e-3:
        raise UserError(f"the {fmt} export of {args.checkpoint} differs from PyTorch by {diff:.3g}")
    return 0
