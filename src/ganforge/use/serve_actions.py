"""What `ganforge serve` shows, as plain functions (no gradio here, testable without a server).

Each tab of the page calls one of these with plain values (numbers, strings, file paths) and
gets numpy images (H, W, 3) uint8, dicts and DataFrames back. Bad input raises UserError, which
the page shows as a message. Which tab a loaded model gets depends on what it can do:
`.sample` (GAN), `.translate` (CycleGAN), `.upscale` (super-resolution), `.forecast`
(forecaster), `.logits` (classifier).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError

MAX_SIDE = 1024   # uploaded photos are scaled down to this long side before translating or upscaling


def kind_of(model) -> str:
    for ability, kind in (("sample", "gan"), ("translate", "cyclegan"), ("upscale", "upscale"),
                          ("forecast", "forecaster"), ("logits", "classifier")):
        if hasattr(model, ability):
            return kind
    raise UserError(f"ganforge serve has no page for {type(model).__name__} models")


def _rgb(images: torch.Tensor, nrow: int | None = None, upscale: int | None = None, clips: bool = False) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> a grid (H', W', 3) uint8; small images are enlarged (nearest).
    clips: images are clips (N, T, C, H, W), shown as one row of T frames per clip."""
    from ..viz import make_grid

    if clips:
        images, nrow = images.flatten(0, 1), images.shape[1]

    up = upscale if upscale is not None else max(1, 64 // images.shape[-1])
    grid = make_grid(images, nrow, upscale=up)
    return np.repeat(grid, 3, axis=2) if grid.shape[2] == 1 else grid


def check_upload(path, max_mb: float | None = None) -> Path:
    """An uploaded file's path, refused (UserError) when missing or larger than max_mb."""
    if path is None or path == "":
        raise UserError("no file was uploaded")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"uploaded file {path.name} is not there")
    if max_mb is not None and path.stat().st_size > max_mb * 2 ** 20:
        raise UserError(f"{path.name} is {path.stat().st_size / 2 ** 20:.1f} MB; the limit is {max_mb:g} MB "
                        "(ganforge serve --max-upload-mb)")
    return path


def photo_names() -> list[str]:
    from ..data.images import builtin_photos

    return sorted(builtin_photos())


def read_photo(upload, photo: str | None, max_mb: float | None = None, max_side: int = MAX_SIDE) -> torch.Tensor:
    """An uploaded image (or an embedded photo by name) -> uint8 (1, 3, H, W), long side <= max_side."""
    from PIL import Image

    from ..data.images import builtin_photos, read_image

    if upload not in (None, ""):
        src = check_upload(upload, max_mb)
    elif photo in builtin_photos():
        src = builtin_photos()[photo]
    else:
        raise UserError("upload an image or pick one of the embedded photos")
    img = read_image(src, 3)
    if max(img.size) > max_side:
        s = max_side / max(img.size)
        img = img.resize((max(8, round(img.size[0] * s)), max(8, round(img.size[1] * s))), Image.LANCZOS)
    if min(img.size) < 8:
        raise UserError(f"image {Path(src).name} is {img.size[0]}x{img.size[1]}: at least 8 px a side, please")
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].contiguous()


def save_png(image: np.ndarray, folder, name: str) -> str:
    """Write (H, W, 3) uint8 to folder/name (for the page's download buttons); returns the path."""
    from PIL import Image

    path = Path(folder) / name
    Image.fromarray(image).save(path)
    return str(path)


def side_by_side(a: np.ndarray, b: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two (H, W, 3) uint8 images next to each other on white, tops aligned."""
    h = max(a.shape[0], b.shape[0])
    out = np.full((h, a.shape[1] + gap + b.shape[1], 3), 255, np.uint8)
    out[:a.shape[0], :a.shape[1]] = a
    out[:b.shape[0], a.shape[1] + gap:] = b
    return out


# ----------------------------------------------------------------------------- GAN

def gan_generate(gen, seed: int = 0, n: int = 16, label: str | None = None, codes: dict | None = None) -> np.ndarray:
    """A grid of n images for a noise seed; label (conditional: a class name or index, None/'' or
    'one row per class': every class in turn); codes: the page's code fields by name (gen.code_spec:
    a value, or None/''/'random' for a random one)."""
    n, seed = _number(n, "number of images", 1, 256), _number(seed, "seed", 0, 2 ** 63 - 1)
    labels = rows = None
    if gen.num_classes and label not in (None, "", "one row per class"):
        labels = gen.label_index(label)
    elif gen.num_classes:   # one row per class, always: n grows to whole rows
        from ..viz import class_grid

        n, rows, _ = class_grid(n, gen.num_classes)
    request = None
    if gen.code_spec:
        request = {}
        for name, spec in gen.code_spec.items():
            value = (codes or {}).get(name)
            if value in (None, "", "random"):
                continue
            request[name] = float(value) if isinstance(spec, tuple) else _index(value, spec, f"code {name}")
    images = gen.sample(n, seed=seed, labels=labels, codes=request, rows=rows)
    return _rgb(images, rows, clips=gen.output == "clips")


def _number(value, what: str, lo: int, hi: int) -> int:
    """A whole number from a page's field (a float, a string or nothing), in lo..hi, or one UserError."""
    try:
        i = int(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{what} must be a whole number in {lo}..{hi}, got {value!r}") from None
    if i != value and not isinstance(value, str) or not lo <= i <= hi:
        raise UserError(f"{what} must be a whole number in {lo}..{hi}, got {value!r}")
    return i


def _index(value, k: int, what: str) -> int:
    return _number(value, what, 0, k - 1)


def gan_interpolate(gen, seed: int = 0, steps: int = 8, label: str | None = None) -> np.ndarray:
    """A strip of `steps` images from the noise of seed to that of seed + 1."""
    steps, seed = _number(steps, "interpolation steps", 2, 64), _number(seed, "seed", 0, 2 ** 63 - 1)
    label = None if label in (None, "", "one row per class") or not gen.num_classes else label
    strip = gen.interpolate(steps, seed, label)
    return _rgb(strip, steps, clips=gen.output == "clips")


# ----------------------------------------------------------------------------- CycleGAN, super-resolution

def translate_photo(tr, upload=None, photo: str | None = "astronaut", direction: str = "AtoB",
                    max_side: int = 512, max_mb: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(input, translated), each (H, W, 3) uint8 at the input's size (long side <= max_side)."""
    from ..data import to_float, to_uint8

    x = read_photo(upload, photo, max_mb, _number(max_side, "long side", 8, 4096))
    y = to_uint8(tr.translate(to_float(x), direction))
    return x[0].permute(1, 2, 0).numpy(), y[0].permute(1, 2, 0).numpy()


def upscale_photo(up, upload=None, photo: str | None = "astronaut", scale: int | None = None, max_side: int = 256,
                  max_mb: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic-enlarged input, network output), both (s*H, s*W, 3) uint8."""
    import torch.nn.functional as nnf

    if hasattr(up, "check_scale"):
        up.check_scale(None if scale in (None, "") else _number(scale, "scale", 1, 16))
    x = read_photo(upload, photo, max_mb, _number(max_side, "long side", 8, 4096))
    y = up.upscale(x)
    s = y.shape[-1] // x.shape[-1]
    bic = nnf.interpolate(x.float(), scale_factor=s, mode="bicubic", align_corners=False).round().clamp(0, 255)
    return bic.to(torch.uint8)[0].permute(1, 2, 0).numpy(), y[0].permute(1, 2, 0).numpy()


# ----------------------------------------------------------------------------- classifier

def classify(clf, upload=None, index: int = 0, max_mb: float | None = None, maps: int = 16):
    """Top-5 {class: probability}, the input as the net sees it, and one grid per conv stage of
    up to `maps` feature maps [(H, W, 3) uint8]. No upload: held-out image `index` of its dataset."""
    x = _classifier_input(clf, upload, _number(index, "held-out image index", 0, 10 ** 9), max_mb)
    probs = torch.softmax(clf.logits(x[None]).float(), 1)[0]
    top = probs.topk(min(5, len(probs)))
    labels = {clf.classes[i]: float(p) for p, i in zip(top.values, top.indices)}
    stages = []
    for fmap in clf.feature_maps(x):
        m = fmap[:maps]
        lo, hi = m.amin((1, 2), keepdim=True), m.amax((1, 2), keepdim=True)
        m = (m - lo) / (hi - lo).clamp_min(1e-8) * 2 - 1    # each map at its own contrast
        stages.append(_rgb(m[:, None], upscale=max(1, 48 // m.shape[-1])))
    return labels, _rgb(x[None], upscale=max(1, 128 // x.shape[-1])), stages


def _classifier_input(clf, upload, index: int, max_mb) -> torch.Tensor:
    if upload not in (None, ""):
        return clf.read(check_upload(upload, max_mb))
    from ..data import to_float
    from ..data.datasets import load_images

    c, size, _ = clf.image_shape
    test = load_images(clf.dataset, "test" if clf.dataset.partition(":")[0] not in ("folder", "synthetic") else "train",
                       c, size)
    if not 0 <= index < len(test):
        raise UserError(f"held-out image index must be in 0..{len(test) - 1}, got {index}")
    return to_float(test.images[index:index + 1])[0]


def conv_explore(upload=None, kernel: str = "edge", activation: str = "relu", pool: str = "max", pool_size: int = 2,
                 padding: str = "same", size: int = 300, max_mb: float | None = None) -> list[tuple[np.ndarray, str]]:
    """The conv -> activation -> pooling explorer (ganforge conv): [(stage image (H, W, 3) uint8, caption)]."""
    from ..viz.conv import _displayable, explore, load_picture, parse_kernel

    size, pool_size = _number(size, "size", 1, 1024), _number(pool_size, "pool size", 1, 64)
    path = None if upload in (None, "") else str(check_upload(upload, max_mb))
    image, _ = load_picture(path, size)
    out = []
    for st in explore(image, parse_kernel(kernel), activation, pool, pool_size, pool_size, padding):
        d = _displayable(st.data)
        d = (np.stack([d] * 3, -1) if d.ndim == 2 else d) * 255
        out.append((d.round().astype(np.uint8), f"{st.title}: {st.shape_text} (H x W x C)"))
    return out


# ----------------------------------------------------------------------------- forecaster

def forecast(fc, upload=None, horizon: int | None = None, max_mb: float | None = None, history: int = 120):
    """(table: dates, forecast, intervals when the checkpoint has them, naive / window-mean /
    seasonal-naive baselines; plot (H, W, 3) uint8). No upload: the training series."""
    import tempfile

    from PIL import Image

    from ..viz.plots import plot_forecast

    data = str(check_upload(upload, max_mb)) if upload not in (None, "") else (fc.config.csv or None)
    series = fc.read(data)
    table = fc.forecast(data, None if horizon in (None, "") else _number(horizon, "horizon", 1, 10 ** 6))
    target, h = np.asarray(series.target, float), len(table)
    table["naive"] = target[-1]
    table["window_mean"] = target[-fc.window:].mean()
    period = fc.meta.get("period")
    if period and len(target) >= period:
        table["seasonal_naive"] = [target[len(target) - period + (i % period)] for i in range(h)]
    with tempfile.TemporaryDirectory() as tmp:
        baselines = [c for c in ("naive", "window_mean", "seasonal_naive") if c in table.columns]
        plot_forecast(series, table, int(history), Path(tmp) / "f.png", baselines)
        plot = np.array(Image.open(Path(tmp) / "f.png").convert("RGB"))
    return table, plot


# ----------------------------------------------------------------------------- runs dashboard

PLOTS = ("samples.png", "losses.png", "photos.png", "test_forecast.png", "confusion.png", "backtest.png")


def list_runs(root) -> list[list]:
    """[run, task, last logged step, when, metrics] for every run directory under root, newest first."""
    import json
    import time

    root = Path(root)
    if not root.is_dir():
        return []
    rows, reference = [], {}
    for d in sorted([*root.glob("*/config.yaml"), *root.glob("*/*/config.yaml")],   # runs/x-0001 or runs/exp/x-0001
                    key=lambda p: -p.parent.stat().st_mtime):
        d = d.parent
        last = _last_line(d / "stats.jsonl")
        scores: dict = {}
        _eval_scores(d, scores, reference)
        metrics = {**scores, **_metrics(d)}
        rows.append([d.relative_to(root).as_posix(), d.name.rsplit("-", 1)[0], last.get("step", ""), d.stat().st_mtime,
                     json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in list(metrics.items())[:6]})])
    rows.sort(key=lambda r: -r[3])
    for r in rows:
        r[3] = time.strftime("%Y-%m-%d %H:%M", time.localtime(r[3]))
    return rows


def _eval_scores(run: Path, scores: dict, reference: dict) -> None:
    """Put the scores of the run's eval.json in `scores` ("eval_fid", ...) when they were measured like
    those of the newest run of its task with an eval.json (`reference`: task -> (run, protocol));
    else one line naming the difference: scores measured differently never stand side by side."""
    from ..metrics.protocol import difference, read_eval

    record = read_eval(run)
    if record is None:
        return
    proto = record.get("protocol") or {}
    name, first = reference.setdefault(record.get("task"), (run.name, proto))
    diff = difference(first, proto)
    if diff:
        scores["eval"] = f"not comparable with {name}'s scores ({diff})"
    else:
        scores.update({f"eval_{k}": v for k, v in (record.get("metrics") or {}).items()
                       if k in ("fid", "kid", "accuracy", "psnr_y", "ssim_y")})


def _last_line(path: Path) -> dict:
    import json

    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
        return json.loads(lines[-1]) if lines else {}
    except (OSError, ValueError):
        return {}


def _metrics(run: Path) -> dict:
    import json

    out = {}
    for name in ("summary.json", "test_metrics.json"):
        try:
            value = json.loads((run / name).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            out.update({k: v for k, v in value.items() if isinstance(v, (int, float, str))})
    return out


def run_view(root, name: str) -> tuple[list[tuple[str, str]], dict]:
    """A run's latest plots [(PNG path, caption)] and its metrics (summary, test metrics, last stats line)."""
    root = Path(root)
    run = root / str(name)
    if not name or not run.resolve().is_relative_to(root.resolve()) or not (run / "config.yaml").is_file():
        raise UserError(f"no run {name!r} under {root}")
    images = [(str(run / p), p[:-4]) for p in PLOTS if (run / p).is_file()]
    steps = sorted((run / "samples").glob("step_*.png")) if (run / "samples").is_dir() else []
    if steps and not (run / "samples.png").is_file():
        images.insert(0, (str(steps[-1]), steps[-1].stem))
    return images, {**_metrics(run), "last logged": _last_line(run / "stats.jsonl")}


def analytics_off() -> None:
    """Gradio reports usage to its makers unless told not to; ganforge serve never does."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
