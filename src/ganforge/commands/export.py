"""ganforge export CKPT --format safetensors|onnx|torchscript|hf|space: weights that travel, for every kind of
model; hf: a Hugging Face model folder (card, config.json, model.safetensors); space: a Gradio Space folder."""
from __future__ import annotations

from ..errors import UserError

FORMATS = ("safetensors", "onnx", "torchscript")   # ganforge.use.export.FORMATS, repeated so --help needs no torch
FOLDERS = ("hf", "space")   # formats that write a folder (ganforge.use.hub / ganforge.use.space)


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "export", "export any checkpoint (GAN, CycleGAN, classifier, forecaster) as safetensors "
                                   "with a model card, ONNX or TorchScript; graphs are checked against PyTorch",
                    "ganforge export runs/gan-0001 --format safetensors -o g.safetensors   # ganforge.load() reads it\n"
                    "ganforge export runs/cyclegan-0001 -o g.onnx --direction BtoA\n"
                    "ganforge export runs/classifier-0001 --format torchscript -o clf.pt\n"
                    "ganforge export runs/gan-0001 --format hf -o dcgan-mnist/     # model card + config.json + weights\n"
                    "ganforge export runs/gan-0001 --format space -o dcgan-space/ --repo-id me/dcgan-mnist")
    p.add_argument("checkpoint", help="a checkpoint file (or .safetensors export), a run directory or an hf export folder")
    p.add_argument("--format", choices=FORMATS + FOLDERS, default=None,
                   help="default: from the -o suffix (.safetensors, .onnx, .pt/.ts), else onnx; hf: a Hugging Face "
                        "model folder; space: a Gradio Space folder holding one")
    p.add_argument("-o", "--output", required=True, help="file to write, e.g. g.onnx (hf, space: a folder)")
    p.add_argument("--force", action="store_true", help="hf, space: replace the contents of a non-empty -o folder")
    p.add_argument("--repo-id", default=None, metavar="USER/NAME",
                   help="hf, space: the Hub repository the model will live in (the Space's models: field)")
    p.add_argument("--license", default="mit", help="hf, space: the card's license id (default mit)")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"],
                   help="CycleGAN: which generator (default AtoB)")
    p.set_defaults(func=_export)


def _export(args) -> int:
    from pathlib import Path

    from ..use import export as E
    from ..use.load import rebuild
    from ..nn import checkpoint
    from ..files import output_file

    if args.format in FOLDERS:
        return _export_folder(args)
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
    opset = E.export_graph(gr, out, fmt)
    diff = E.parity(gr, out, fmt)
    shapes = ", ".join(f"{n} {tuple(x.shape)}" for n, x in zip(gr.input_names, gr.inputs))
    check = ("onnxruntime not installed: not checked" if diff is None else
             f"max abs diff against PyTorch on a random input: {diff:.3g}")
    print(f"wrote {out} ({fmt}{f' opset {opset}' if opset else ''}, {ckpt['task']}; inputs like {shapes}{'; ' + gr.note if gr.note else ''}); {check}")
    if diff is not None and not diff <= 1e-3:
        raise UserError(f"the {fmt} export of {args.checkpoint} differs from PyTorch by {diff:.3g}")
    return 0


def _export_folder(args) -> int:
    """--format hf|space: check the checkpoint rebuilds, then write the folder and say what the card claims."""
    import re
    import sys
    from pathlib import Path

    from ..nn import checkpoint
    from ..use import hub
    from ..use.load import rebuild

    if args.repo_id is not None and not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", args.repo_id):
        raise UserError(f"--repo-id must look like USER/NAME, got {args.repo_id!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", args.license):
        raise UserError(f"--license must be a Hub license id like mit or apache-2.0, got {args.license!r}")
    ckpt = checkpoint.load(args.checkpoint)
    run = Path(args.checkpoint)
    if ckpt["task"] == "forecaster" and run.is_dir() and (run / "best.pt").is_file() \
            and (run / "checkpoint.pt").is_file():
        ckpt = checkpoint.load(run / "best.pt")   # the checkpoint the run's test figures describe
        print(f"exporting {run / 'best.pt'} (step {ckpt['step']}): the checkpoint test_metrics.json scored")
    model = rebuild(ckpt)   # a checkpoint that cannot rebuild its model is refused before anything is written
    out, here = Path(args.output).resolve(), Path(hub.run_folder(ckpt)).resolve()
    if out == here or out in here.parents or out in Path.cwd().resolve().parents or out == Path.cwd().resolve():
        raise UserError(f"-o {args.output} holds the checkpoint or the current folder; choose a new folder")
    out = hub.prepare_folder(args.output, args.force)
    if args.format == "hf":
        results, model_dir = hub.write_model_folder(ckpt, out, args.license, args.repo_id), out
        print(f"wrote {out}: README.md (model card), config.json, model.safetensors, images/ "
              f"({ckpt['task']}, step {ckpt['step']})")
    else:
        from ..use.space import write_space

        model_dir, wheel = write_space(ckpt, out, args.repo_id, args.license)
        print(f"wrote {out}: app.py, requirements.txt, README.md, {wheel.relative_to(out)}, {model_dir.name}/ "
              f"(run it: cd {out} && python app.py; push: huggingface-cli upload USER/NAME {out} . --repo-type space)")
    exported = checkpoint.load(model_dir)   # read once: the round trip below and the Space's card figures
    if args.format == "space":
        results = hub.read_results(exported)
    print(f"ganforge.load({model_dir}): max abs diff {_parity(model, rebuild(exported)):.3g} against the checkpoint")
    if results.metrics:
        print(f"card results: {', '.join(f'{k} {v:.4g}' for k, v in results.metrics.items() if not k.endswith('_std'))} "
              f"(from {Path(results.source).name})")
    else:
        print(f"warning: the card says {results.note}", file=sys.stderr)
    return 0


def _parity(a, b) -> float:
    """Max |difference| of two loaded models' nets on the same example input (0: the export is the checkpoint)."""
    import torch

    from ..use import export as E

    ga, gb = E.graph(a), E.graph(b)
    with torch.no_grad():
        return float((ga.module.eval()(*ga.inputs) - gb.module.eval()(*gb.inputs)).abs().max())
