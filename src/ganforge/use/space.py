"""A ready-to-push Gradio Space for one trained model, built offline:

    SPACE/README.md         Space header (sdk: gradio, sdk_version, app_file, models: [repo id]) + prose
    SPACE/app.py            ganforge.use.serve.serve([model folder], runs=None): the `ganforge serve` page,
                            with ganforge imported from the wheel below (unpacked once)
    SPACE/requirements.txt  torch and ganforge's own dependencies (the wheel named in a comment)
    SPACE/wheels/ganforge-*.whl   built here with pip, no network (--no-deps --no-build-isolation)
    SPACE/<name>/           the model folder of `export --format hf`
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import UserError

APP = '''"""Gradio Space: the page `ganforge serve` builds for {name} (one code path with the CLI)."""
import hashlib
import os
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ganforge_from_wheel() -> Path:
    """Unpack wheels/ganforge-*.whl once (a pure-Python wheel unpacked is installed) and import ganforge from
    it: the Space runs the ganforge that exported its model, whatever else the environment holds. Spaces
    install requirements.txt before this folder is copied in, so the wheel cannot be listed there."""
    wheel = next((HERE / "wheels").glob("ganforge-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    site = Path(tempfile.gettempdir()) / f"ganforge-space-{{digest}}"
    if not site.is_dir():
        tmp = tempfile.mkdtemp(prefix=site.name + "-", dir=site.parent)
        zipfile.ZipFile(wheel).extractall(tmp)
        try:
            os.rename(tmp, site)
        except OSError:   # another process unpacked it first
            pass
    sys.path.insert(0, str(site))
    return site


ganforge_from_wheel()
import ganforge  # noqa: E402
from ganforge.use.serve import serve  # noqa: E402

print(f"ganforge {{ganforge.__version__}} from {{Path(ganforge.__file__).parent}}", flush=True)
# Spaces expect 0.0.0.0:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override both (gradio's own variables).
serve([HERE / {name!r}], host=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
      port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), runs=None)
'''


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"


def gradio_version() -> str:
    """The sdk_version: the gradio this page was built and tested with."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradio")
    except PackageNotFoundError:
        raise UserError("export --format space needs gradio installed (pip install 'ganforge[serve]'): its "
                        "version is the Space's sdk_version") from None


def source_root() -> Path | None:
    """The source tree ganforge runs from (pyproject.toml naming ganforge), or None when installed."""
    import ganforge

    root = Path(ganforge.__file__).resolve().parents[2]
    pp = root / "pyproject.toml"
    return root if pp.is_file() and 'name = "ganforge"' in pp.read_text() else None


def build_wheel(dest: Path) -> Path:
    """A ganforge wheel in `dest`, offline: pip wheel of a clean copy of the source tree (the copy keeps
    build/ and *.egg-info out of the tree), or, when installed from a wheel, the installed files re-zipped."""
    dest.mkdir(parents=True, exist_ok=True)
    root = source_root()
    if root is None:
        return _rezip_installed(dest)
    with tempfile.TemporaryDirectory(prefix="ganforge-wheel-") as tmp:
        copy = Path(tmp) / "src-tree"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.egg-info")
        shutil.copytree(root / "src", copy / "src", ignore=ignore)
        for name in ("pyproject.toml", "README.md", "NOTICE", "LICENSE"):
            if (root / name).is_file():
                shutil.copy(root / name, copy / name)
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(dest), str(copy)], capture_output=True, text=True)
    wheels = sorted(dest.glob("ganforge-*.whl"))
    if r.returncode or not wheels:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"building the ganforge wheel failed (pip wheel, offline): {last[:200]}")
    return wheels[-1]


def _rezip_installed(dest: Path) -> Path:
    """A wheel of the installed ganforge: its files and dist-info as installed (RECORD lists them)."""
    import base64
    import hashlib
    import zipfile
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("ganforge")
    except PackageNotFoundError:
        raise UserError("cannot build a ganforge wheel: ganforge is neither a source tree nor installed") from None
    path = dest / f"ganforge-{dist.version}-py3-none-any.whl"
    info = f"ganforge-{dist.version}.dist-info"
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in dist.files or []:
            name = str(f)
            if not (name.startswith("ganforge/") or name.startswith(info + "/")) or "__pycache__" in name \
                    or name.endswith(("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")):
                continue
            data = Path(f.locate()).read_bytes()
            z.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{name},sha256={digest},{len(data)}")
        records.append(f"{info}/RECORD,,")
        z.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return path


def requirements(wheel: Path) -> list[str]:
    """The wheel's core dependencies (torch among them) and safetensors (the weights' format). The wheel itself
    is named in a comment: a Space's builder installs this file before the repository is copied in (it mounts
    requirements.txt alone), so a local wheel path here would fail the build; app.py imports it instead."""
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    deps = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    return [f"# ganforge itself: wheels/{wheel.name}, which app.py unpacks and imports at start",
            "# (or, outside a Space: pip install wheels/" + wheel.name + ")", *deps, "safetensors>=0.4"]


def header(name: str, sdk_version: str, license: str, repo_id: str | None) -> str:
    import yaml

    fields = {"title": name[:30], "emoji": "🎨", "colorFrom": "indigo", "colorTo": "gray", "sdk": "gradio",
              "sdk_version": sdk_version, "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
              "app_file": "app.py", "pinned": False, "license": license}   # the Python it was exported and tried with
    if repo_id:
        fields["models"] = [repo_id]
    return "---\n" + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True) + "---\n"


def write_space(ckpt: dict, out: Path, repo_id: str | None, license: str = "mit") -> tuple[Path, Path]:
    """Fill `out` (already prepared) with the Space; returns (model folder, wheel)."""
    from .hub import run_folder, write_model_folder

    sdk = gradio_version()
    name = slug(repo_id.split("/")[-1] if repo_id else run_folder(ckpt).name)
    model_dir = out / name
    model_dir.mkdir()
    results = write_model_folder(ckpt, model_dir, license, repo_id)
    wheel = build_wheel(out / "wheels")
    (out / "app.py").write_text(APP.format(name=name))
    (out / "requirements.txt").write_text("\n".join(requirements(wheel)) + "\n")
    what = f"[{repo_id}](https://huggingface.co/{repo_id})" if repo_id else f"the model in `{name}/`"
    card = (f"{header(name, sdk, license, repo_id)}\n# {name}\n\nTry {what} in the browser: the page "
            f"`ganforge serve` shows for it ({ckpt['task']}, step {ckpt['step']}). The model card, with "
            f"{'its measured results' if results.metrics else 'no measured results (not evaluated)'}, is "
            f"[{name}/README.md]({name}/README.md).\n\nRun it locally: `pip install -r requirements.txt && "
            "python app.py` (then open http://localhost:7860).\n")
    (out / "README.md").write_text(card)
    return model_dir, wheel
