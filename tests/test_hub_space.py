"""`ganforge export --format space`: a Gradio Space folder (header, app.py, requirements.txt, a wheel built
offline, the model folder) whose app.py, importing ganforge from that wheel alone, serves the
`ganforge serve` page: gradio_client gets a sample, headless Chromium shows it."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from ganforge.cli import main

from tiny_models import train_tiny

pytestmark = pytest.mark.slow   # builds a wheel and starts a server: ~30 s on 2 busy cores


def header(readme: Path) -> dict:
    text = readme.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    run = train_tiny("gan", root, "dcgan")
    out = root / "space"
    assert main(["export", str(run), "--format", "space", "-o", str(out), "--repo-id", "someone/tiny-dcgan"]) == 0
    return root, out


def test_space_folder(space, tmp_path):
    from importlib.metadata import version

    root, out = space
    head = header(out / "README.md")
    assert head["sdk"] == "gradio" and head["sdk_version"] == version("gradio") and head["app_file"] == "app.py"
    assert head["models"] == ["someone/tiny-dcgan"] and head["python_version"] == "%d.%d" % sys.version_info[:2]
    reqs = (out / "requirements.txt").read_text().splitlines()
    (wheel,) = (out / "wheels").glob("ganforge-*.whl")
    assert f"wheels/{wheel.name}" in reqs[0] and reqs[0].startswith("#")   # named, not installed by the builder
    assert any(r.startswith("torch>=") for r in reqs) and not any(r.startswith(("./", "ganforge")) for r in reqs)
    assert (out / "tiny-dcgan" / "config.json").is_file() and (out / "tiny-dcgan" / "README.md").is_file()
    assert "0.0.0.0" in (out / "app.py").read_text() and "7860" in (out / "app.py").read_text()
    bare = tmp_path / "bare"   # without --repo-id: no models: line
    assert main(["export", str(out / "tiny-dcgan"), "--format", "space", "-o", str(bare)]) == 0
    assert "models" not in header(bare / "README.md")


def test_space_app_serves_the_page(space):
    root, out = space
    (wheel,) = (out / "wheels").glob("ganforge-*.whl")
    _installed_ganforge_rebuilds_its_wheel(wheel, root)
    port = free_port()
    tmp = root / "tmp"   # where app.py unpacks its wheel (tempfile honours TMPDIR)
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # ganforge only from the Space's own wheel
    env.update(TMPDIR=str(tmp), GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               GRADIO_TEMP_DIR=str(root / "gradio"))
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=out, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited: {proc.stdout.read()}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    pytest.fail("app.py did not answer within 90 s")
                time.sleep(0.3)
        from gradio_client import Client
        from PIL import Image

        c = Client(url, verbose=False, analytics_enabled=False, download_files=str(root / "downloads"))
        grid, download = c.predict(0, 4, api_name="/tiny_dcgan_generate")
        assert Image.open(grid).size == Image.open(download).size and Image.open(download).size[0] > 32
        config = urllib.request.urlopen(url + "config", timeout=10).read().decode()
        assert "tiny-dcgan" in config and "runs-refresh" not in config   # the model's tab, no runs dashboard
        _screenshot(url, root)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    first = proc.stdout.read().splitlines()[0]
    assert first.startswith("ganforge ") and f" from {tmp}/ganforge-space-" in first, first


def _screenshot(url: str, root: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    from PIL import Image

    shot = root / "space-page.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.locator("#tiny_dcgan-generate").click()
        page.locator("#tiny_dcgan-grid img").first.wait_for()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert Image.open(shot).size[0] >= 1000
    if os.environ.get("GANFORGE_SCREENSHOTS"):   # where a person looks at it
        shutil.copy(shot, Path(os.environ["GANFORGE_SCREENSHOTS"]) / shot.name)


def _installed_ganforge_rebuilds_its_wheel(wheel: Path, root: Path) -> None:
    """Without a source tree (ganforge installed from a wheel) the Space's wheel is the installed files re-zipped:
    the same package files as pip's wheel, and it installs."""
    import zipfile

    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True)

    again = root / "again"
    code = f"from pathlib import Path; from ganforge.use.space import build_wheel; print(build_wheel(Path({str(again)!r})))"
    made = Path(subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(site)},
                               capture_output=True, text=True, check=True).stdout.strip())
    names = [set(n for n in zipfile.ZipFile(w).namelist() if n.startswith("ganforge/")) for w in (wheel, made)]
    assert names[0] == names[1] and len(names[0]) > 50
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(root / "site2"), str(made)], check=True)
    assert (root / "site2" / "ganforge" / "use" / "space.py").is_file()
