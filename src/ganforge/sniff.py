"""What a file that is not a ganforge checkpoint is, and what to do with it instead.

torch.load's own message for a foreign file ends on the advice to re-run it with
weights_only=False, which would run whatever code the file pickles: the one thing a user must not
do with a file they did not expect. These helpers name the file's kind from its first bytes (or its
loaded contents) so that no torch message is passed on.
"""
from __future__ import annotations

import re
from pathlib import Path

_REFERENCE_KEY = re.compile(r"^(module\.)?model\.\d+\.(conv_block\.\d+\.)?(weight|bias|running_mean|running_var|"
                            r"num_batches_tracked)$")
_IMPORT = "import it first: ganforge import cyclegan {path} -o runs/imported"
_PASS = "pass a checkpoint.pt, or the run directory that holds it (e.g. runs/gan-0001)"


def kind_of_bytes(path: Path) -> tuple[str, str] | None:
    """(what the file is, what to do instead) from its first bytes, or None for a PyTorch file / unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if not head:
        return "an empty file", _PASS
    if head[:4] == b"PK\x03\x04" or head[:2] in (b"\x80\x02", b"\x80\x04", b"\x80\x05"):
        return None   # a PyTorch zip file or a legacy pickle: decided by what loading it gives
    if path.suffix.lower() == ".onnx" or (head[:1] == b"\x08" and (b"pytorch" in head or b"onnx" in head)):
        return ("an ONNX model (what `ganforge export` writes)",
                "run it with onnxruntime; ganforge commands take the checkpoint.pt it was exported from")
    for magic, name in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image")):
        if head.startswith(magic):
            return name, _PASS
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head[:-3].decode("utf-8", "ignore") if len(head) == 4096 else None
    if text is None:
        return None
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if len(lines) >= 2 and any(all(ln.count(sep) == lines[0].count(sep) > 0 for ln in lines[:-1] or lines)
                               for sep in ",;\t"):
        return ("a CSV table", "a series trains a forecaster (ganforge train forecaster --csv FILE); "
                               "sample, serve and the other commands take a checkpoint.pt")
    if path.name == "config.yaml" or path.suffix.lower() in (".yaml", ".yml"):
        return "a YAML file (a run's config.yaml?)", _PASS
    return "a text file", _PASS


def kind_of_contents(obj, path: Path) -> tuple[str, str]:
    """(what a loaded PyTorch file that lacks ganforge's format is, what to do instead)."""
    import torch

    state = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    if isinstance(state, dict) and state and all(isinstance(v, torch.Tensor) for v in state.values()):
        if all(isinstance(k, str) and _REFERENCE_KEY.match(k) for k in state):
            return ("a generator of the CycleGAN reference code (keys model.N.weight)", _IMPORT.format(path=path))
        return (f"a state dict of {len(state)} tensors without ganforge's meta (weights alone cannot rebuild their "
                "model)", "train with ganforge to get a checkpoint that rebuilds its model; " + _PASS)
    return (f"a PyTorch file holding a {type(obj).__name__}, without ganforge's format", _PASS)


def unreadable(path: Path, error: Exception) -> tuple[str, str]:
    """(what, what to do) for a file torch.load refused; torch's own advice is never passed on."""
    message = str(error).strip()
    if "weights_only" in message or "Weights only" in message:
        return pickled_code()
    first = message.splitlines()[0][:160] if message else type(error).__name__
    return f"a damaged or truncated PyTorch file ({first})", "write it again, or " + _PASS


def pickled_code() -> tuple[str, str]:
    """A PyTorch file that weights-only loading refuses: it pickles Python objects (code)."""
    return ("a PyTorch file that pickles Python objects (e.g. a whole model saved with torch.save(model)), "
            "which ganforge never unpickles because that can run code", "save model.state_dict() or " + _PASS)
