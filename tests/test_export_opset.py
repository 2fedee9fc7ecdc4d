"""ONNX export retries at opset 20 quietly where 17 lacks an operator (the video GAN's affine_grid):
one summary line naming the opset, which the file's own metadata records too."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_models import train_tiny

pytest.importorskip("onnx", reason="onnx not installed (pip install 'ganforge[export]')")


def _export(run, out) -> str:
    """The command's whole output (stdout and stderr at the file-descriptor level, where torch's C++
    side writes), from a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "ganforge", "export", str(run), "-o", str(out)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


@pytest.mark.slow   # two real ONNX exports through torch's exporter (about 4 s each)
@pytest.mark.parametrize("model, opset", [("videogan", 20), ("dcgan", 17)])
def test_onnx_export_is_quiet_and_records_its_opset(model, opset, tmp_path):
    import onnx

    out = _export(train_tiny("gan", tmp_path, model), tmp_path / "g.onnx")
    assert "Torch IR graph" not in out and len(out.strip().splitlines()) == 1, out[:2000]
    assert f"(onnx opset {opset}, gan;" in out
    m = onnx.load(str(tmp_path / "g.onnx"))
    assert {p.key: p.value for p in m.metadata_props}["ganforge_opset"] == str(opset)
    assert [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [opset]
