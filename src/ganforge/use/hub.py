"""A trained model as a Hugging Face model folder, and reading one back.

    write_model_folder(ckpt, "dcgan-mnist/")    # README.md (card), config.json, model.safetensors, images/
    ckpt = nn.checkpoint.read_export("dcgan-mnist/")   # what checkpoint.load returns for such a folder

config.json is what rebuilds the model (task, config, meta, step); model.safetensors holds the
inference nets with string-only metadata (JSON inside), so the file alone also loads. The card's
figures come only from the run's own evaluation (read_results); nothing else is ever put there.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..metrics.protocol import eval_path
from ..nn.checkpoint import CONFIG, EXPORT_FORMAT, SERIES, WEIGHTS

MAX_SERIES_MB = 50
COUNTS = ("step", "num", "num_real")   # how many images were scored: protocol, not a figure of the model
RUN_PLOTS = ("samples.png", "photos.png", "confusion.png", "test_forecast.png", "losses.png")


# ----------------------------------------------------------------------------- reading

@dataclass
class Results:
    """The run's own measured figures. metrics: name -> number (empty: not evaluated, `note` says why);
    protocol: how they were measured; baselines: name -> {metric: number} (forecasters)."""
    source: str | None = None    # the record's path
    metrics: dict = field(default_factory=dict)
    protocol: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)
    verdict: str = ""
    note: str = "not evaluated: no eval.json beside the checkpoint (run `ganforge eval` on it, then export again)"


def _numbers(d) -> dict:
    return {k: float(v) for k, v in (d or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}


def read_results(ckpt: dict) -> Results:
    """eval.json (GANs, CycleGAN, SR, classifiers) or test_metrics.json (forecasters), tolerant of
    their absence or damage: then Results() with a note, never a figure from elsewhere."""
    path = Path(ckpt["path"])
    if ckpt["task"] == "forecaster":
        f = (path if path.is_dir() else path.parent) / "test_metrics.json"
        scored = "best.pt" if (f.parent / "best.pt").is_file() else "checkpoint.pt"   # what the test part scored
        if f.is_file() and not path.is_dir() and path.name != scored:
            return Results(note=f"not evaluated: test_metrics.json scored {scored}, not {path.name}")
        return _forecaster_results(f) if f.is_file() else Results(
            note="not evaluated: no test_metrics.json (the run did not finish its test part)")
    f = eval_path(path)   # where `ganforge eval` wrote it
    if not f.is_file():
        return Results()
    try:
        record = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        return Results(note=f"not evaluated: {f.name} is unreadable ({str(e)[:80]})")
    if not isinstance(record, dict):
        return Results(note=f"not evaluated: {f.name} is not a JSON object")
    metrics = record.get("metrics") if isinstance(record.get("metrics"), dict) else record
    step = record.get("step")
    if isinstance(step, int) and step != ckpt["step"]:
        return Results(note=f"not evaluated: {f.name} scored step {step} but the checkpoint is at step {ckpt['step']} "
                            "(run `ganforge eval` again)")
    metrics = {k: v for k, v in _numbers(metrics).items() if k not in COUNTS}
    if not metrics:
        return Results(note=f"not evaluated: {f.name} holds no numeric metric")
    proto = record.get("protocol") if isinstance(record.get("protocol"), dict) else {}
    return Results(str(f), metrics, {k: v for k, v in proto.items() if v is not None})


def _forecaster_results(f: Path) -> Results:
    try:
        rep = json.loads(f.read_text())
        tested = set(rep.get("dm_tests") or {})
        rows = {k: _numbers(v) for k, v in rep.items() if isinstance(v, dict) and "mae" in v}
        (label,) = [k for k in rows if k not in tested]   # the model's row: the one tested against the baselines
    except (OSError, ValueError, TypeError, AttributeError) as e:
        return Results(note=f"not evaluated: {f.name} is unreadable or not ganforge's ({str(e)[:80]})")
    metrics = {**rows[label], **{f"coverage_{k}": v for k, v in _numbers(rep.get("coverage")).items()}}
    proto = {"split": "test", "model": label, "windows": rep.get("windows"), "alpha": rep.get("alpha"),
             "period": rep.get("period")}
    return Results(str(f), metrics, {k: v for k, v in proto.items() if v is not None},
                   {k: v for k, v in rows.items() if k != label}, str(rep.get("verdict", "")))


# ----------------------------------------------------------------------------- writing

def prepare_folder(out, force: bool) -> Path:
    """The output folder, refused in one line when it exists and is not empty (unless force: emptied)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {out} is a file; the hf and space formats write a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise UserError(f"-o {out} exists and is not empty; pass --force to replace its contents")
        for p in out.iterdir():
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"-o {out}: cannot create the folder ({e.strerror})") from None
    return out


def run_folder(ckpt: dict) -> Path:
    p = Path(ckpt["path"])
    return p if p.is_dir() else p.parent


def write_model_folder(ckpt: dict, out: Path, license: str = "mit", repo_id: str | None = None) -> Results:
    """README.md (model card), config.json, model.safetensors, images/ and the evaluation records into `out`."""
    from ..nn import checkpoint
    from .card import render
    from .export import model_card, write_safetensors
    from .load import rebuild

    src = run_folder(ckpt)
    write_safetensors(ckpt, out / WEIGHTS)
    cfg = dict(ckpt["config"])
    if ckpt["task"] == "forecaster" and cfg.get("csv") and Path(cfg["csv"]).is_file() \
            and Path(cfg["csv"]).stat().st_size <= MAX_SERIES_MB * 2 ** 20:
        shutil.copyfile(cfg["csv"], out / SERIES)   # the page's default series and `forecast` without --csv
        cfg["csv"] = SERIES
    header = {**model_card(ckpt), "format": EXPORT_FORMAT, "config": cfg, "meta": dict(ckpt["meta"])}
    (out / CONFIG).write_text(json.dumps(header, indent=2, default=str) + "\n")
    results = read_results(ckpt)
    if results.source:   # the record travels too: a later export of this folder reads the same figures
        shutil.copyfile(results.source, out / ("test_metrics.json" if ckpt["task"] == "forecaster" else "eval.json"))
    for name in ("summary.json", "sessions.jsonl"):   # steps, wall time, device: what the card says of training
        if (src / name).is_file():
            shutil.copyfile(src / name, out / name)
    model = rebuild(checkpoint.load(out))   # the export itself, loaded back: its images are what a user gets
    images = sample_images(model, src, out / "images")
    card = render(ckpt, results, images, _json(src / "summary.json"), _sessions(src), license, repo_id, out.name,
                  SERIES if (out / SERIES).is_file() else None, model)
    (out / "README.md").write_text(card)
    return results


def sample_images(model, run: Path, folder: Path) -> list[str]:
    """images/sample.png made now by the exported model (what the page shows first), plus the run's plots.
    Returns the paths relative to the model folder."""
    from PIL import Image

    from . import serve_actions as S

    folder.mkdir(exist_ok=True)
    kind, made = S.kind_of(model), None
    if kind == "gan":
        made = S.gan_generate(model, 0, 16 if not model.num_classes else 2 * model.num_classes)
    elif kind == "cyclegan":
        made = S.side_by_side(*S.translate_photo(model, None, "astronaut", "AtoB", 256))
    elif kind == "upscale":
        made = S.side_by_side(*S.upscale_photo(model, None, "astronaut", max_side=96))
    elif kind == "forecaster":
        try:
            made = S.forecast(model, None)[1]
        except UserError:   # the training series did not travel (too large or gone): the run's plot only
            made = None
    names = []
    if made is not None:
        Image.fromarray(made).save(folder / "sample.png")
        names.append("images/sample.png")
    for name in RUN_PLOTS:
        for where in (run / name, run / "images" / name):   # a run's plots, or those of an earlier export
            if where.is_file():
                shutil.copyfile(where, folder / name)
                names.append(f"images/{name}")
                break
    return names


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _sessions(run: Path) -> list[dict]:
    try:
        return [json.loads(ln) for ln in (run / "sessions.jsonl").read_text().splitlines() if ln.strip()]
    except (OSError, ValueError):
        return []
