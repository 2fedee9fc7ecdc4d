"""The model card (README.md) of an exported model: YAML front matter the Hub reads (library_name,
license, tags, datasets, metrics, pipeline_tag, model-index with the measured results), then prose:
what it is, how it was trained, how to use it, its results and its limitations.

Figures come only from hub.Results (the run's own evaluation); without one the card says
"not evaluated" and has no model-index.
"""
from __future__ import annotations

PIPELINE = {"gan": "unconditional-image-generation", "cyclegan": "image-to-image", "sr": "image-to-image",
            "classifier": "image-classification", "forecaster": "time-series-forecasting"}
WHAT = {"gan": "a generative adversarial network: noise{cond} -> images", "cyclegan":
        "a CycleGAN: two generators translating images between domains A and B (unpaired training)",
        "sr": "a super-resolution network (x{scale})", "classifier": "a CNN image classifier",
        "forecaster": "a GRU forecaster of a time series"}
# ganforge data name -> the Hub dataset holding that data (only those that truly are it)
HUB_DATASETS = {"mnist5k": "ylecun/mnist", "mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist",
                "cifar10": "uoft-cs/cifar10"}
PROSE_DATA = {"mnist5k": "the 5,000-digit MNIST subset embedded in ganforge (4,000 train / 1,000 test)",
              "moving-mnist": "Moving MNIST clips generated from the embedded MNIST digits",
              "photo2vintage": "ganforge's embedded photo2vintage pair (CC0 / public-domain photos and vintage-toned "
                               "versions of them)",
              "photos": "the CC0 / public-domain photos embedded in ganforge (scikit-image's sample photos)",
              "synthetic": "synthetic random images (a smoke-test dataset: no real content)"}
USAGE = {"gan": "images = model.sample(16, seed=0)        # (16, {shape}) floats in [-1, 1]",
         "cyclegan": "y = model.translate(x, \"AtoB\")          # x: (N, 3, H, W) floats in [-1, 1]",
         "sr": "y = model.upscale(x)                     # x: (N, 3, H, W) uint8 -> x{scale} larger",
         "classifier": "classes = model.predict(x)               # x: (N, {shape}) floats in [-1, 1]",
         "forecaster": "table = model.forecast({csv} the next {horizon} step(s), dated, original units"}
CLI = {"gan": "ganforge sample {d} -n 64 -o grid.png --seed 0", "cyclegan": "ganforge translate {d} photo.jpg -o out/",
       "sr": "ganforge upscale {d} small.png -o large.png", "classifier": "ganforge eval {d}",
       "forecaster": "ganforge forecast {d} -o forecast.csv"}


def data_spec(task: str, cfg: dict) -> str:
    if task == "forecaster":
        csv = cfg.get("csv") or ""
        return csv.rsplit("/", 1)[-1] if csv else "seattle-weather"
    return str(cfg.get("data", ""))


def data_prose(task: str, cfg: dict) -> str:
    from ..data.datasets import DESCRIPTIONS

    spec = data_spec(task, cfg)
    base = spec.split(":", 1)[0]
    if task == "forecaster":
        return ("daily Seattle weather 2012-2015 (NOAA), embedded in ganforge" if spec == "seattle-weather"
                else f"the CSV file `{spec}`") + f", column `{cfg.get('column')}`"
    if base == "folder":
        return f"a folder of the trainer's own images (`{spec.split(':', 1)[1]}`)"
    return PROSE_DATA.get(base) or DESCRIPTIONS.get(base) or f"`{spec}`"


def front_matter(ckpt: dict, results, name: str, license: str) -> dict:
    task, cfg = ckpt["task"], ckpt["config"]
    arch = cfg.get("model") or cfg.get("generator") or task
    spec = data_spec(task, cfg)
    hub = HUB_DATASETS.get(spec.split(":", 1)[0])
    meta = {"library_name": "ganforge", "license": license, "pipeline_tag": PIPELINE.get(task, task),
            "tags": sorted({"ganforge", "pytorch", task, str(arch)} | ({"gan"} if task in ("gan", "cyclegan") else set()))}
    if hub:
        meta["datasets"] = [hub]
    if results.metrics:
        meta["metrics"] = sorted({k.split("_")[0] if task == "forecaster" else k for k in results.metrics
                                  if not k.endswith("_std")})
        args = {k: v for k, v in results.protocol.items() if isinstance(v, (str, int, float, bool))}
        metrics = [{"type": k, "value": v, "name": label(k, results.protocol), **({"args": args} if args else {})}
                   for k, v in results.metrics.items() if not k.endswith("_std")]
        split = results.protocol.get("reference_split") or results.protocol.get("split")
        dataset = {"type": hub or spec, "name": data_prose(task, cfg)[:120], **({"split": split} if split else {})}
        meta["model-index"] = [{"name": name, "results": [{"task": {"type": meta["pipeline_tag"]},
                                                            "dataset": dataset, "metrics": metrics}]}]
    return meta


def _series(cfg: dict, series: str | None) -> str:
    """What the forecaster's usage line reads: the series that travelled, the embedded one, or the user's own."""
    if series:
        return f"model.config.csv)   # {series} in this folder (the training series):"
    if not cfg.get("csv"):
        return "None)   # None: the embedded Seattle weather it trained on:"
    return '"your.csv")   # a CSV with the training columns:'


def label(key: str, protocol: dict) -> str:
    from ..metrics.labels import LABELS

    if key.startswith("coverage_"):
        return f"{float(key[9:]) * 100:g}% interval coverage"

    ext = str(protocol.get("extractor") or "")
    if key == "fid" and ext:
        return ext if "FID" in ext else f"FID ({ext} features)"
    return {"fid": "FID", "mae": "MAE", "rmse": "RMSE", "smape": "sMAPE", "mase": "MASE"}.get(key, LABELS.get(key, key))


def render(ckpt: dict, results, images: list[str], summary: dict, sessions: list[dict], license: str = "mit",
           repo_id: str | None = None, folder: str = "MODEL_FOLDER", series: str | None = None, model=None) -> str:
    """The README.md text; `folder`: the export folder's name, as the usage snippet loads it; `series`:
    the forecaster's training series inside the folder (None: it did not travel); `model`: the loaded export."""
    import yaml

    from ..version import __version__

    task, cfg, meta = ckpt["task"], ckpt["config"], ckpt["meta"]
    arch = cfg.get("model") or cfg.get("generator") or task
    name = repo_id.split("/")[-1] if repo_id else f"ganforge-{arch}"

    class NoAliases(yaml.SafeDumper):   # each metric spells out its protocol: no &id001 / *id001 in the card
        def ignore_aliases(self, data):
            return True

    fm = yaml.dump(front_matter(ckpt, results, name, license), Dumper=NoAliases, sort_keys=False, allow_unicode=True)
    shape = "x".join(map(str, meta.get("image_shape") or ()))
    cond = (" + a class label" if getattr(model, "num_classes", 0) else
            " + latent codes" if getattr(model, "code_spec", None) else "")   # what the model takes, not its name
    what = WHAT.get(task, task).format(cond=cond, scale=cfg.get("scale"))
    out = [f"---\n{fm}---\n", f"# {name}\n",
           f"`{arch}`, {what}, trained with [ganforge](https://pypi.org/project/ganforge/) {__version__}"
           + _shapes(task, shape, meta) + ".\n"]
    if images:
        out.append(f"![{images[0].rsplit('/', 1)[-1][:-4]}]({images[0]})\n")
    out += ["## Training\n", f"- data: {data_prose(task, cfg)}"]
    out.append(f"- steps: {summary.get('step', ckpt['step'])} (this checkpoint: step {ckpt['step']})")
    wall = summary.get("train_wall_s")
    out.append(f"- training wall time: {_duration(wall)}" if isinstance(wall, (int, float))
               else "- training wall time: not recorded (run trained before ganforge kept it)")
    if sessions:
        s = sessions[-1]
        out.append(f"- hardware: {s.get('device_name') or s.get('device')}, precision {s.get('precision')}, "
                   f"{s.get('world', 1)} process(es), {len(sessions)} session(s)")
    out.append("- full configuration: the `config` entry of `config.json` (every training flag's value)\n")
    out += ["## Results\n", *_results(results)]
    out += ["## How to use\n", "```python\nimport ganforge\n\n"
            f"model = ganforge.load(\"{folder}\")   # this folder (config.json + model.safetensors)\n"
            + USAGE.get(task, "").format(shape=", ".join(map(str, meta.get("image_shape") or ())),
                                         scale=cfg.get("scale"), horizon=cfg.get("horizon"), csv=_series(cfg, series))
            + "\n```\n",
            f"Or from the command line: `{CLI[task].format(d=folder)}`; "
            f"`ganforge serve {folder}` opens a page to try it.\n"]
    out += ["## Limitations\n", *_limits(task, cfg, results), ""]
    if len(images) > 1:
        out += ["## Images\n", *[f"![{p.rsplit('/', 1)[-1][:-4]}]({p})" for p in images[1:]], ""]
    return "\n".join(out)


def _shapes(task: str, shape: str, meta: dict) -> str:
    if task == "gan" and shape:
        return f"; outputs {shape} images"
    if task == "classifier" and shape:
        return f"; inputs {shape} images, {len(meta.get('classes') or [])} classes"
    return ""


def _results(results) -> list[str]:
    if not results.metrics:
        why = results.note.removeprefix("not evaluated: ")
        return [f"Not evaluated ({why}): no figure is claimed for this model.\n"]
    rows = ["| metric | value |", "|---|---|"]
    for k, v in results.metrics.items():
        if k.endswith("_std"):
            continue
        std = results.metrics.get(f"{k}_std")
        rows.append(f"| {label(k, results.protocol)} | {v:.4g}{f' ± {std:.2g}' if std is not None else ''} |")
    proto = ", ".join(f"{k} {v}" for k, v in results.protocol.items() if not isinstance(v, (dict, list)))
    out = [f"Measured by the run's own evaluation (`{results.source.rsplit('/', 1)[-1]}`)"
           + (f": {proto}." if proto else "."), "", *rows, ""]
    if results.baselines:
        out += ["Baselines on the same test windows:", "", "| baseline | MAE | RMSE | MASE |", "|---|---|---|---|",
                *[f"| {b} | {m.get('mae', float('nan')):.4g} | {m.get('rmse', float('nan')):.4g} | "
                  f"{m.get('mase', float('nan')):.4g} |" for b, m in results.baselines.items()], ""]
    if results.verdict:
        out += [f"Verdict: {results.verdict}", ""]
    return out


def _limits(task: str, cfg: dict, results) -> list[str]:
    out = []
    if task in ("gan", "cyclegan"):
        out.append("- A generator makes plausible-looking images of its training data only; it can reproduce "
                   "that data's biases and, for small datasets, near-copies of training images.")
    if results.protocol.get("num_generated") and results.protocol["num_generated"] < 10000:
        out.append(f"- FID/KID here come from {results.protocol['num_generated']} generated images: compare only "
                   "with scores measured the same way (extractor, counts, seed).")
    if str(results.protocol.get("extractor", "")).startswith("classifier"):
        out.append("- FID uses a small classifier's features, not Inception's: not comparable with published FIDs.")
    if task == "forecaster":
        out.append(f"- Forecasts {cfg.get('horizon')} step(s) from the last {cfg.get('window')}; outside the range "
                   "of the training series the min-max scaling extrapolates and accuracy is unknown.")
    if str(cfg.get("data", "")).startswith("synthetic"):
        out.append("- Trained on synthetic random data: a pipeline check, not a useful model.")
    out.append(f"- Trained for {cfg.get('steps') or cfg.get('epochs')} {'steps' if cfg.get('steps') else 'epochs'} "
               f"with one seed ({cfg.get('seed')}): the figures are of this one run, not a mean over seeds.")
    return out


def _duration(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"
