"""The `ganforge serve` page: one gradio tab per checkpoint, built from what the loaded model can do,
plus a runs dashboard. Gradio is imported only when a page is built (ganforge --help stays fast);
the work behind every button is a plain function in ganforge.use.serve_actions."""
from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from pathlib import Path

from . import serve_actions as S
from ..errors import UserError

KERNELS = ("edge", "sharpen", "sobel-x", "sobel-y", "box-blur", "gaussian", "emboss")


def slugs(names: list[str]) -> list[str]:
    """Unique API-safe names for the tabs' functions (gradio_client calls /<slug>_generate, ...)."""
    out: list[str] = []
    for name in names:
        base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "model"
        slug, k = base, 2
        while slug in out:
            slug, k = f"{base}_{k}", k + 1
        out.append(slug)
    return out


def _plain(message: str) -> str:
    """A message without the server's upload folders: the user knows the file by its own name."""
    return re.sub(r"\S*/gradio/[0-9a-f]{16,}/", "", message)


def build_app(models: dict, runs: str | Path | None = "runs", max_mb: float = 10.0):
    """models: tab name -> loaded model (ganforge.load). Returns an unlaunched gr.Blocks."""
    S.analytics_off()
    from ..optional import require

    gr = require("gradio", "ganforge serve")
    out_dir = Path(tempfile.mkdtemp(prefix="ganforge-serve-"))   # the download buttons' files, removed at exit
    atexit.register(shutil.rmtree, out_dir, ignore_errors=True)

    def safe(fn):
        """Bad input -> a message in the page (gr.Error); the server keeps serving."""
        @functools.wraps(fn)
        def run(*args):
            try:
                return fn(*args)
            except UserError as e:
                raise gr.Error(_plain(str(e))) from None
            except (ValueError, RuntimeError, OSError, KeyError, IndexError) as e:
                raise gr.Error(_plain(f"{type(e).__name__}: {str(e)[:300]}")) from None
        return run

    builders = {"gan": _gan_tab, "cyclegan": _translate_tab, "upscale": _upscale_tab, "classifier": _classifier_tab,
                "forecaster": _forecast_tab}
    with gr.Blocks(title="ganforge", analytics_enabled=False) as app:
        gr.Markdown("# ganforge\nEvery tab is one checkpoint" + ("; the last tab lists the training runs."
                                                                  if runs is not None else "."))
        for (name, model), slug in zip(models.items(), slugs(list(models))):
            with gr.Tab(name):
                builders[S.kind_of(model)](gr, model, slug, safe, out_dir, max_mb)
        if runs is not None:
            with gr.Tab("runs"):
                _runs_tab(gr, Path(runs), safe)
    return app


def _gan_tab(gr, gen, slug, safe, out_dir, max_mb):
    c, h, w = gen.image_shape[-3:]
    gr.Markdown(f"**{gen.config.model}** GAN, {c}x{h}x{w} images, step {gen.step} ({gen.path})")
    with gr.Row():
        seed = gr.Number(0, label="seed", precision=0)
        n = gr.Slider(1, 64, 16 if not gen.num_classes else 2 * gen.num_classes, step=1, label="number of images",
                      info=None if not gen.num_classes else f"one row per class: rounded up to a multiple of "
                                                            f"{gen.num_classes}")
    inputs = [seed, n]
    if gen.num_classes:
        inputs.append(gr.Dropdown(["one row per class", *gen.classes], value="one row per class", label="label"))
    spec = gen.code_spec   # one field per code: a choice for a discrete one, a slider for a continuous one
    for name, values in spec.items():
        if isinstance(values, tuple):
            lo, hi = values
            inputs.append(gr.Slider(2 * lo, 2 * hi, (lo + hi) / 2, step=0.1, label=f"continuous code {name}"))
        else:
            inputs.append(gr.Dropdown(["random", *map(str, range(values))], value="random", label=f"code {name}"))
    button = gr.Button("generate", variant="primary", elem_id=f"{slug}-generate")
    grid = gr.Image(label="samples", type="numpy", elem_id=f"{slug}-grid", interactive=False)
    download = gr.File(label="download the grid (PNG)")

    def generate(seed, n, *rest):
        label = rest[0] if gen.num_classes else None
        codes = dict(zip(spec, rest[1 if gen.num_classes else 0:]))
        img = S.gan_generate(gen, seed, n, label, codes)
        return img, S.save_png(img, out_dir, f"{slug}-seed{int(seed)}.png")

    button.click(safe(generate), inputs, [grid, download], api_name=f"{slug}_generate")
    with gr.Row():
        steps = gr.Slider(2, 16, 8, step=1, label="interpolation steps (seed -> seed + 1)")
        ibutton = gr.Button("interpolate", elem_id=f"{slug}-interpolate")
    strip = gr.Image(label="interpolation", type="numpy", interactive=False)
    label_in = inputs[2:3] if gen.num_classes else []
    ibutton.click(safe(lambda seed, steps, label=None: S.gan_interpolate(gen, seed, steps, label)),
                  [seed, steps, *label_in], strip, api_name=f"{slug}_interpolate")


def _photo_inputs(gr):
    with gr.Row():
        upload = gr.File(label="upload an image (PNG, JPEG, ...)", type="filepath")
        photo = gr.Dropdown(["(upload)", *S.photo_names()], value="astronaut", label="or an embedded photo")
    return upload, photo


def _translate_tab(gr, tr, slug, safe, out_dir, max_mb):
    gr.Markdown(f"**CycleGAN** {tr.config.generator}, width {tr.config.width}, step {tr.step} ({tr.path})")
    upload, photo = _photo_inputs(gr)
    with gr.Row():
        direction = gr.Radio(list(tr.nets), value="AtoB", label="direction")
        side = gr.Slider(32, 1024, 256, step=4, label="long side (px) the photo is scaled to")
    button = gr.Button("translate", variant="primary", elem_id=f"{slug}-translate")
    both = gr.Image(label="input | translated", type="numpy", elem_id=f"{slug}-result", interactive=False)
    download = gr.File(label="download the translation (PNG)")

    def run(upload, photo, direction, side):
        a, b = S.translate_photo(tr, upload, photo, direction, side, max_mb)
        return S.side_by_side(a, b), S.save_png(b, out_dir, f"{slug}-{direction}.png")

    button.click(safe(run), [upload, photo, direction, side], [both, download], api_name=f"{slug}_translate")


def _upscale_tab(gr, up, slug, safe, out_dir, max_mb):
    scale = getattr(up, "scale", None)
    gr.Markdown(f"**super-resolution** x{scale} ({getattr(up, 'path', '')})")
    upload, photo = _photo_inputs(gr)
    with gr.Row():
        factor = gr.Dropdown([str(scale)], value=str(scale), label="scale")
        side = gr.Slider(16, 512, 128, step=4, label="long side (px) of the low-resolution input")
    button = gr.Button("upscale", variant="primary", elem_id=f"{slug}-upscale")
    both = gr.Image(label="bicubic | network", type="numpy", interactive=False)
    download = gr.File(label="download the upscaled image (PNG)")

    def run(upload, photo, factor, side):
        a, b = S.upscale_photo(up, upload, photo, factor, side, max_mb)
        return S.side_by_side(a, b), S.save_png(b, out_dir, f"{slug}-x{factor}.png")

    button.click(safe(run), [upload, photo, factor, side], [both, download], api_name=f"{slug}_upscale")


def _classifier_tab(gr, clf, slug, safe, out_dir, max_mb):
    gr.Markdown(f"**classifier** {clf.name}, {len(clf.classes)} classes, input "
                f"{'x'.join(map(str, clf.image_shape))} ({clf.path})")
    with gr.Row():
        upload = gr.File(label="upload an image (none: a held-out image)", type="filepath")
        index = gr.Number(0, label="held-out image index", precision=0)
    button = gr.Button("classify", variant="primary", elem_id=f"{slug}-classify")
    with gr.Row():
        seen = gr.Image(label="what the net sees", type="numpy", interactive=False)
        top = gr.Label(num_top_classes=5, label="top 5")
    stages = gr.Gallery(label="feature maps of each conv stage", columns=4, object_fit="contain")

    def run(upload, index):
        labels, x, maps = S.classify(clf, upload, index, max_mb)
        return x, labels, [(m, f"stage {i + 1}") for i, m in enumerate(maps)]

    button.click(safe(run), [upload, index], [seen, top, stages], api_name=f"{slug}_classify")
    with gr.Accordion("convolution -> activation -> pooling explorer", open=False):
        with gr.Row():
            picture = gr.File(label="image (none: the embedded astronaut)", type="filepath")
            kernel = gr.Dropdown(list(KERNELS), value="edge", allow_custom_value=True,
                                 label="kernel (or a matrix like [[0,1,0],[1,-4,1],[0,1,0]])")
            act = gr.Dropdown(["relu", "leaky-relu", "tanh", "sigmoid", "none"], value="relu", label="activation")
            pool = gr.Radio(["max", "avg"], value="max", label="pooling")
            size = gr.Slider(1, 8, 2, step=1, label="pool size")
            padding = gr.Radio(["same", "valid"], value="same", label="padding")
        ebutton = gr.Button("explore", elem_id=f"{slug}-explore")
        explored = gr.Gallery(label="stages", columns=4, object_fit="contain")
        ebutton.click(safe(lambda f, k, a, p, s, pad: S.conv_explore(f, k, a, p, s, pad, max_mb=max_mb)),
                      [picture, kernel, act, pool, size, padding], explored, api_name=f"{slug}_explore")


def _forecast_tab(gr, fc, slug, safe, out_dir, max_mb):
    gr.Markdown(f"**forecaster** of {fc.column!r}: window {fc.window}, up to {fc.horizon} step(s) ahead "
                f"({fc.path}); no upload: the training series")
    with gr.Row():
        upload = gr.File(label=f"upload a CSV with the column(s) {', '.join(fc.columns)}", type="filepath")
        if fc.horizon > 1:
            horizon = gr.Slider(1, fc.horizon, fc.horizon, step=1, label="horizon")
        else:   # a slider needs min < max: a model of one step gets a fixed field with the same API input
            horizon = gr.Number(1, precision=0, interactive=False, label="horizon (this model predicts 1 step)")
    button = gr.Button("forecast", variant="primary", elem_id=f"{slug}-forecast")
    table = gr.Dataframe(label="forecast and baselines (naive, window mean, seasonal naive)")
    plot = gr.Image(label="forecast", type="numpy", interactive=False)
    download = gr.File(label="download the table (CSV)")

    def run(upload, horizon):
        t, p = S.forecast(fc, upload, horizon, max_mb)
        path = out_dir / f"{slug}-forecast.csv"
        t.to_csv(path, index=False)
        return t, p, str(path)

    button.click(safe(run), [upload, horizon], [table, plot, download], api_name=f"{slug}_forecast")


def _runs_tab(gr, root: Path, safe):
    gr.Markdown(f"Run directories under `{root}` (refreshed on demand).")
    refresh = gr.Button("refresh", elem_id="runs-refresh")
    table = gr.Dataframe(headers=["run", "task", "last step", "updated", "metrics"], value=S.list_runs(root),
                         label="runs")
    pick = gr.Dropdown([r[0] for r in S.list_runs(root)], label="run", allow_custom_value=True)
    images = gr.Gallery(label="latest samples and curves", columns=3, object_fit="contain")
    metrics = gr.JSON(label="metrics")

    def do_refresh():   # the table, and the newest run opened
        rows = S.list_runs(root)
        newest = rows[0][0] if rows else None
        shown = S.run_view(root, newest) if newest else ([], {})
        return rows, gr.Dropdown(choices=[r[0] for r in rows], value=newest), *shown

    refresh.click(safe(do_refresh), None, [table, pick, images, metrics], api_name="runs_refresh")
    pick.input(safe(lambda name: S.run_view(root, name)), pick, [images, metrics], api_name="runs_view")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int) -> None:
    """Refuse a port out of range or already taken, in one line, before gradio starts."""
    import socket

    if not 1 <= port <= 65535:
        raise UserError(f"--port must be in 1..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise UserError(f"--host {host}: cannot resolve it ({e.strerror or e})") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind(addr)
        except OSError as e:
            raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e} (in use? pick another --port)") \
                from None


def serve(checkpoints=(), host: str = "127.0.0.1", port: int = 7860, runs: str | Path | None = "runs",
          max_mb: float = 10.0, device="cpu") -> None:
    """Check everything (port, upload limit, every checkpoint loads and has a page), then serve until Ctrl-C.
    device: where every tab's model computes (auto | cpu | cuda | cuda:N)."""
    import math
    import sys

    from .load import load
    from ..optional import require

    if not (math.isfinite(max_mb) and 0 < max_mb <= 10_000):
        raise UserError(f"--max-upload-mb must be in (0, 10000], got {max_mb}")
    check_port(host, port)
    if runs is not None and Path(runs).exists() and not Path(runs).is_dir():
        raise UserError(f"--runs {runs} is a file, not a folder")
    models = {}
    for path in checkpoints:
        p = Path(path)
        name = p.name if p.is_dir() else (f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem)
        model = load(p, device=device)
        S.kind_of(model)   # a model with no page is refused before the server starts
        models[name if name not in models else f"{name} ({len(models) + 1})"] = model
    S.analytics_off()
    require("gradio", "ganforge serve")   # after the checkpoints: a wrong path fails fast, without gradio's start-up
    app = build_app(models, runs, max_mb)
    if host not in LOOPBACK:
        print(f"warning: serving on {host}: anyone who can reach this machine can use the page", file=sys.stderr)
    print(f"serving {len(models)} checkpoint(s) on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    launch(app, host, port, max_mb, runs)


def launch(app, host: str, port: int, max_mb: float, runs: str | Path | None = None) -> None:
    """Serve until Ctrl-C: no share link, errors shown in the page, uploads limited to max_mb."""
    allowed = [str(Path(runs).resolve())] if runs is not None else []
    app.queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, share=False, show_error=True, max_file_size=int(max_mb * 2 ** 20),
        ssr_mode=False, allowed_paths=allowed, inbrowser=False, enable_monitoring=False)
