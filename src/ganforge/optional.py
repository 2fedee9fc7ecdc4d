"""Optional dependencies: one place that says which pip extra brings each, so a missing one is one
`error:` line naming the command to run, never the package's own ImportError traceback."""
from __future__ import annotations

import importlib

from .errors import UserError

# import name -> (pip extra of ganforge, what needs it)
EXTRAS = {
    "onnx": ("export", "ONNX export"),
    "onnxruntime": ("export", "checking an ONNX export"),
    "safetensors": ("export", "safetensors files"),
    "tensorboard": ("tensorboard", "TensorBoard logs"),
    "gradio": ("serve", "the web demo"),
    "av": ("video", "reading and writing video"),
}


def require(module: str, feature: str | None = None):
    """Import and return `module`, or raise UserError naming `pip install 'ganforge[extra]'`."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra, what = EXTRAS.get(module, (None, module))
        how = f"pip install 'ganforge[{extra}]'" if extra else f"pip install {module}"
        detail = "" if isinstance(e, ModuleNotFoundError) and e.name == module else f" ({e})"
        raise UserError(f"{feature or what} needs the {module} package, which is not installed{detail}: "
                        f"run {how}") from None
