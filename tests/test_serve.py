"""`ganforge serve`: the functions behind each tab (no server), then the real server on a free
loopback port driven by gradio_client (shapes, bad uploads, the server keeps serving) and by a
headless Chromium (clicks "generate" and "translate", saves screenshots)."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganforge.use import serve_actions as S
from ganforge.errors import UserError

from tiny_models import train_tiny

KINDS = ("cgan", "infogan", "dcgan", "cyclegan", "classifier", "forecaster", "sr")
NAMES = ["gan-0001", "gan-0002", "gan-0003", "cyclegan-0001", "classifier-0001", "forecaster-0001", "sr-0001",
         "forecaster-0002"]


def day_first_csv(path, start="2021-01-01", n=80):
    """A semicolon-separated series with day-first dates (31/01/2021)."""
    import pandas as pd

    t = np.arange(n)
    pd.DataFrame({"day": pd.date_range(start, periods=n).strftime("%d/%m/%Y"), "y": np.sin(t / 4) + 0.02 * t}
                 ).to_csv(path, index=False, sep=";")
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """One runs folder holding a tiny run of every kind (gan-0001 cgan, gan-0002 infogan, gan-0003 dcgan, ...)."""
    root = tmp_path_factory.mktemp("serve") / "runs"
    for kind in KINDS:
        train_tiny(kind, root, nest=False)
    import ganforge   # forecaster-0002: the default horizon 1 (a slider of min = max crashed serve), day-first dates

    ganforge.train("forecaster", csv=str(day_first_csv(root.parent / "dayfirst.csv")), column="y", window=6,
                   hidden="4", epochs=1, batch_size=16, progress=False, out=str(root), threads=1)
    day_first_csv(root.parent / "new.csv", start="2021-06-01", n=10)   # 01/06 .. 10/06: ambiguous on its own
    (root.parent / "bad.png").write_text("not an image")
    (root.parent / "bad.csv").write_text("a,b\n1,2\n")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(root.parent / "ok.png")
    return root


@pytest.fixture(scope="module")
def models(root):
    import ganforge

    return {n: ganforge.load(root / n) for n in NAMES}


# ----------------------------------------------------------------------------- the tabs' functions

def test_each_model_gets_its_tab(models):
    assert [S.kind_of(m) for m in models.values()] == ["gan", "gan", "gan", "cyclegan", "classifier", "forecaster",
                                                       "upscale", "forecaster"]


def test_gan_functions(models):
    cgan, infogan, dcgan = models["gan-0001"], models["gan-0002"], models["gan-0003"]
    a = S.gan_generate(dcgan, seed=3, n=4)
    assert a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8
    assert np.array_equal(a, S.gan_generate(dcgan, seed=3, n=4))             # same seed, same grid
    rows, one = S.gan_generate(cgan, 0, 20), S.gan_generate(cgan, 0, 16, label="7")
    assert rows.shape[0] > 4 * rows.shape[1] and one.shape[0] == one.shape[1]   # 10 rows (a row per class) of 2; a square
    assert not np.array_equal(S.gan_generate(infogan, 0, 4, codes={"cat": "1", "c1": 1, "c2": -1}),
                              S.gan_generate(infogan, 0, 4, codes={"cat": "1", "c1": -1, "c2": 1}))
    strip = S.gan_interpolate(cgan, seed=1, steps=5, label="2")
    assert strip.shape[1] > 4 * strip.shape[0]
    for bad in (lambda: S.gan_generate(dcgan, 0, 0), lambda: S.gan_generate(cgan, 0, 4, label="nosuch"),
                lambda: S.gan_generate(dcgan, None, 4), lambda: S.gan_generate(dcgan, 0, 2.5),
                lambda: S.gan_generate(infogan, 0, 4, codes={"cat": "99"}), lambda: S.gan_interpolate(dcgan, 0, 1)):
        with pytest.raises(UserError):
            bad()


def test_video_gan_shows_one_row_of_frames_per_clip(tmp_path):
    import ganforge

    gen = ganforge.load(train_tiny("videogan", tmp_path, nest=False))
    t, c, h, w = gen.image_shape
    grid = S.gan_generate(gen, 0, 3)
    assert grid.shape[0] < grid.shape[1] and grid.shape[1] > t * w   # 3 rows of t frames
    assert S.gan_interpolate(gen, 0, 3).shape[0] > 2 * h


def test_image_functions(models, root):
    tr, clf = models["cyclegan-0001"], models["classifier-0001"]
    a, b = S.translate_photo(tr, str(root.parent / "ok.png"), None, "BtoA")
    assert a.shape == b.shape == (40, 52, 3)
    a, b = S.translate_photo(tr, None, "chelsea", "AtoB", max_side=64)
    assert max(a.shape[:2]) == 64 and a.shape == b.shape
    labels, seen, stages = S.classify(clf, None, 3)
    assert len(labels) == 5 and abs(sum(labels.values()) - 1) < 0.5 and seen.shape[2] == 3
    assert len(stages) == len(clf.net.forward_stages(clf.read(root.parent / "ok.png")[None])) >= 2
    stages = S.conv_explore(None, "sobel-x", "tanh", "avg", 3, "valid", size=40)
    assert [s[0].shape for s in stages] == [(40, 40, 3), (38, 38, 3), (38, 38, 3), (12, 12, 3)]
    for bad, msg in ((lambda: S.translate_photo(tr, str(root.parent / "bad.png")), "cannot read image"),
                     (lambda: S.classify(clf, str(root.parent / "bad.png")), "cannot read image"),
                     (lambda: S.conv_explore(str(root.parent / "bad.png")), "cannot read image"),
                     (lambda: S.translate_photo(tr, str(root.parent / "ok.png"), max_mb=1e-4), "the limit is"),
                     (lambda: S.translate_photo(tr, None, None), "upload an image")):
        with pytest.raises(UserError, match=msg):
            bad()


def test_upscale_tab_for_any_model_with_upscale():
    """SRGAN's loaded model offers .upscale(uint8 images) and .scale: that is all the tab needs."""
    import torch

    class Nearest:
        scale, path = 2, "nearest.pt"

        def upscale(self, x):
            return x.repeat_interleave(2, -1).repeat_interleave(2, -2)

    assert S.kind_of(Nearest()) == "upscale"
    bic, out = S.upscale_photo(Nearest(), None, "coffee", max_side=32)
    assert bic.shape == out.shape and max(out.shape[:2]) == 64
    assert torch.is_tensor(torch.from_numpy(out))


def test_forecast_and_runs_functions(models, root):
    fc = models["forecaster-0001"]
    table, plot = S.forecast(fc, None, 2)
    assert list(table.columns[:4]) == ["day", "y", "lower_80", "upper_80"] and len(table) == 2
    assert {"naive", "window_mean"} <= set(table.columns) and plot.ndim == 3
    with pytest.raises(UserError, match="not in the CSV"):
        S.forecast(fc, str(root.parent / "bad.csv"), 1)
    rows = S.list_runs(root)
    assert sorted(r[0] for r in rows) == sorted(NAMES)
    images, metrics = S.run_view(root, "cyclegan-0001")
    assert any(c == "losses" for _, c in images) and "last logged" in metrics
    with pytest.raises(UserError):
        S.run_view(root, "../..")


# ----------------------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(root):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", *[str(root / n) for n in NAMES],
                             "--port", str(port), "--runs", str(root), "--max-upload-mb", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "GRADIO_TEMP_DIR": str(root.parent / "gradio")})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ganforge serve exited: {proc.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("ganforge serve did not answer within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def client(url, root):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=str(root.parent / "downloads"))


def _size(path) -> tuple:
    return Image.open(path).size


@pytest.mark.slow   # a gradio server in its own process
def test_every_tab_through_gradio_client(server, root):
    c = client(server, root)
    grid, download = c.predict(1, 8, "one row per class", api_name="/gan_0001_generate")
    assert _size(grid) == _size(download) and _size(grid)[0] > 64
    grid, _ = c.predict(1, 4, "1", 0.5, -0.5, api_name="/gan_0002_generate")
    assert _size(grid)[0] > 32
    assert _size(c.predict(0, 6, api_name="/gan_0003_interpolate"))[0] > 5 * 16
    both, out = c.predict(None, "chelsea", "AtoB", 64, api_name="/cyclegan_0001_translate")
    w, h = _size(out)
    assert max(w, h) == 64 and _size(both) == (2 * w + 8, h)
    seen, top, stages = c.predict(None, 3, api_name="/classifier_0001_classify")
    assert len(top["confidences"]) == 5 and len(stages) >= 2 and _size(seen)[0] >= 8
    stages = c.predict(None, "edge", "relu", "max", 2, "same", api_name="/classifier_0001_explore")
    assert [_size(s["image"]) for s in stages] == [(300, 300)] * 3 + [(150, 150)]
    table, plot, csv = c.predict(None, 2, api_name="/forecaster_0001_forecast")
    assert table["headers"][:2] == ["day", "y"] and len(table["data"]) == 2 and Path(csv).is_file()
    table, plot, csv = c.predict(None, 1, api_name="/forecaster_0002_forecast")   # horizon 1: the tab exists
    assert len(table["data"]) == 1 and str(table["data"][0][0]).startswith("2021-03-22")
    from gradio_client import handle_file   # an upload is read as training read its CSV: day first, semicolons

    table, _, _ = c.predict(handle_file(str(root.parent / "new.csv")), 1, api_name="/forecaster_0002_forecast")
    assert str(table["data"][0][0]).startswith("2021-06-11")
    both, out = c.predict(None, "coffee", "2", 32, api_name="/sr_0001_upscale")
    assert max(_size(out)) == 64 and _size(both)[0] == 2 * _size(out)[0] + 8
    table, pick, images, metrics = c.predict(api_name="/runs_refresh")
    assert len(table["data"]) == len(NAMES) and images and "last logged" in metrics   # the newest run opened
    images, metrics = c.predict("gan-0001", api_name="/runs_view")
    assert images and "last logged" in metrics


@pytest.mark.slow   # a gradio server in its own process
def test_bad_uploads_answer_with_a_message_and_the_server_keeps_serving(server, root):
    from gradio_client import handle_file

    c = client(server, root)
    bad_png, bad_csv = handle_file(str(root.parent / "bad.png")), handle_file(str(root.parent / "bad.csv"))
    big = root.parent / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(big)
    for args, api, msg in (((bad_png, "astronaut", "AtoB", 64), "/cyclegan_0001_translate",
                            "cannot read image bad.png"),
                           ((bad_png, 0), "/classifier_0001_classify", "cannot read image bad.png"),
                           ((bad_png, "edge", "relu", "max", 2, "same"), "/classifier_0001_explore", "cannot read"),
                           ((bad_csv, 1), "/forecaster_0001_forecast", "not in the CSV"),
                           ((bad_png, "astronaut", "2", 32), "/sr_0001_upscale", "cannot read image bad.png"),
                           ((None, "chelsea", "AtoB", 64), "/cyclegan_0001_translate", None),   # still serving
                           ((handle_file(str(big)), "astronaut", "AtoB", 64), "/cyclegan_0001_translate",
                            "exceeds the maximum file size"),
                           ((1, 300), "/gan_0003_generate", "greater than maximum")):
        if msg is None:
            c.predict(*args, api_name=api)
            continue
        with pytest.raises(Exception) as err:   # gradio_client's AppError, or the upload's refusal
            c.predict(*args, api_name=api)
        assert msg in str(err.value), str(err.value)
    import httpx   # the server itself refuses an upload over --max-upload-mb, whatever the client checks

    r = httpx.post(f"{server}gradio_api/upload", files={"files": ("big.png", big.read_bytes())}, timeout=10)
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert urllib.request.urlopen(server, timeout=5).status == 200


@pytest.mark.slow
def test_a_real_browser_clicks_generate_and_translate(server, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)   # a loaded 2-core machine takes its time to start the page's scripts
        page.goto(server)
        page.get_by_role("tab", name="gan-0001", exact=True).click()
        page.locator("#gan_0001-generate").click()
        page.locator("#gan_0001-grid img").first.wait_for()
        shots.append(tmp_path / "serve-gan.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        page.get_by_role("tab", name="cyclegan-0001", exact=True).click()
        page.locator("#cyclegan_0001-translate").click()
        page.locator("#cyclegan_0001-result img").first.wait_for()
        shots.append(tmp_path / "serve-cyclegan.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        browser.close()
    for shot in shots:
        assert Image.open(shot).size[0] >= 1000
        if os.environ.get("GANFORGE_SCREENSHOTS"):   # where a person looks at them
            shutil.copy(shot, Path(os.environ["GANFORGE_SCREENSHOTS"]) / shot.name)


def test_the_cli_does_not_import_gradio_or_torch():
    """`ganforge --help` stays fast: serve, export and import load their heavy packages only when run."""
    code = ("import sys; from ganforge.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('gradio', 'torch', 'safetensors', 'onnx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
