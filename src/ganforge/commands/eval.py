"""ganforge eval CHECKPOINT: score a trained model. Dispatches on the checkpoint's task: the task
module's evaluate(ckpt, **options) returns a dict of metrics (numbers, or strings for labels).
Only options the user gave are passed, so each task takes the ones that make sense to it."""
from __future__ import annotations

from ..errors import UserError
from ..metrics.labels import LABELS



def register(sub) -> None:
    from ..cli import add_command, add_device

    p = add_command(sub, "eval", "evaluate a checkpoint: FID, KID, IS and precision/recall for generators; "
                                 "accuracy for classifiers; PSNR/SSIM (Y and RGB) next to bicubic for super-resolution",
                    "ganforge eval runs/gan-0001/checkpoint.pt --num 2000\n"
                    "ganforge eval runs/sr-0001 --data folder:held-out/   # sr: held-out HR images\n"
                    "ganforge eval runs/gan-0001/best.pt --extractor inception --device cuda\n"
                    "ganforge eval runs/classifier-0001 --data mnist5k\n"
                    "ganforge eval --images mnist5k    # real held-out vs real train: the near-zero floor")
    p.add_argument("checkpoint", nargs="?", help="a checkpoint file or run directory")
    p.add_argument("--num", type=int, default=None, help="generated images to score (default 10000; "
                                                         "FID is biased upward for small counts)")
    p.add_argument("--extractor", default=None, help="auto (default), inception, classifier, classifier:CKPT")
    p.add_argument("--data", default=None, help="dataset to compare with (default: the checkpoint's own)")
    p.add_argument("--seed", type=int, default=None, help="noise seed for the samples (default 0)")
    p.add_argument("--images", metavar="DATASET", default=None,
                   help="instead of a checkpoint, score DATASET's held-out images against its training images")
    add_device(p)   # the generator (or classifier, translator, upscaler) and the feature extractor alike
    p.set_defaults(func=_eval)


def _print(metrics: dict) -> None:
    metrics.pop("protocol", None)
    label = metrics.pop("extractor", None)
    head = {k: metrics.pop(k) for k in ("num", "num_real", "dataset", "classifier", "images", "real_vs_real")
            if k in metrics}
    if "num" in head:
        what = "held-out" if head.get("real_vs_real") else "generated"
        print(f"{head['num']} {what} vs {head['num_real']} training images of {head['dataset']}")
    elif "images" in head:
        print(f"{head.get('classifier', '')} on {head['images']} held-out images".strip())
    for k, v in metrics.items():
        if k.endswith("_std"):
            continue
        name = label if k == "fid" and label else LABELS.get(k, k)
        if k + "_std" in metrics:
            print(f"  {name:<38} {v:.4g} ± {metrics[k + '_std']:.2g}")
        elif isinstance(v, float):
            print(f"  {name:<38} {v:.4g}")
        else:
            print(f"  {name:<38} {v}")
    if label and label.startswith("classifier-FID"):
        print("  (classifier features, not Inception: compare only with scores from the same extractor)")
    if str(metrics.get("clip_fd_net", "")).startswith("clip-FD"):
        print("  (clip-FD: a tiny 3D conv net's features, not I3D FVD: compare only with clip-FD of the same net)")


def _eval(args) -> int:
    from ..nn import checkpoint
    from ..tasks import task_module

    if args.images:
        if args.checkpoint:
            raise UserError("give a CHECKPOINT or --images DATASET, not both")
        from ..metrics.generative import evaluate_real

        _print(evaluate_real(args.images, args.extractor or "auto", args.num, args.device))
        return 0
    if not args.checkpoint:
        raise UserError("which checkpoint? e.g. ganforge eval runs/gan-0001/checkpoint.pt")
    ckpt = checkpoint.load(args.checkpoint)
    module = task_module(ckpt["task"])
    if not hasattr(module, "evaluate"):
        from ..config import TASKS

        able = [t for t in TASKS if hasattr(task_module(t), "evaluate")]
        raise UserError(f"{ckpt['path']} is a {ckpt['task']} checkpoint; ganforge eval can evaluate: {', '.join(able)}")
    if args.num is not None and args.num < 2:
        raise UserError(f"--num must be at least 2, got {args.num}")
    from ..use.load import rebuild

    rebuild(ckpt, args.device)   # a damaged payload is one error line here, not a traceback inside the evaluation
    options = {k: v for k, v in (("num", args.num), ("extractor", args.extractor), ("data", args.data),
                                 ("seed", args.seed)) if v is not None}
    metrics = dict(module.evaluate(ckpt, device=args.device, **options))
    path = _write_record(ckpt, metrics, options)
    _print(metrics)
    if path is not None:
        print(f"  (written to {path})")
    return 0


def _write_record(ckpt: dict, metrics: dict, options: dict):
    """eval.json beside the checkpoint: how the scores were measured (metrics.protocol) and the scores.
    Tasks without a generative protocol record what they were given (data, count, seed)."""
    import json
    import sys
    from pathlib import Path

    from ..files import atomic_write
    from ..metrics import protocol as P

    proto = metrics.get("protocol") or {
        "extractor": metrics.get("extractor"), "dataset": options.get("data") or metrics.get("dataset"),
        "num_generated": options.get("num"), "seed": options.get("seed", 0), "precision": "fp32"}
    record = {"checkpoint": str(ckpt["path"]), "task": ckpt["task"], "step": ckpt.get("step"),
              "train_precision": (ckpt.get("runtime") or {}).get("precision"), "protocol": proto,
              "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}}
    path = P.eval_path(ckpt["path"])
    if Path(path).resolve().is_relative_to(Path(__file__).resolve().parents[1]):
        return None   # a checkpoint that ships inside ganforge (the embedded classifier): its folder is not ours
    try:
        atomic_write(path, lambda f: f.write(json.dumps(record, indent=2).encode() + b"\n"))
    except OSError as e:   # the scores are printed all the same; only the record is missing
        print(f"warning: cannot write {path} ({e.strerror}); the scores above have no eval.json record",
              file=sys.stderr)
        return None
    return path
