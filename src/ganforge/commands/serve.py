"""ganforge serve CKPT...: a local web page (gradio) to try every checkpoint, plus a runs dashboard."""
from __future__ import annotations

from ..errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "serve", "a local web page with one tab per checkpoint (generate, translate, classify, "
                                  "forecast) and a dashboard of the runs under --runs; needs ganforge[serve]",
                    "ganforge serve runs/gan-0001 runs/cyclegan-0001 --port 7860\n"
                    "ganforge serve runs/classifier-0001/best.pt --runs runs --max-upload-mb 5")
    p.add_argument("checkpoints", nargs="*", metavar="RUN_DIR_OR_CKPT",
                   help="checkpoints (files, .safetensors exports or run directories); none: only the runs tab")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--runs", default="runs", help="folder of run directories for the runs tab (default runs)")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="largest accepted upload (default 10 MB)")
    p.set_defaults(func=_serve)


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


def _serve(args) -> int:
    import math
    import sys
    from pathlib import Path

    from ..api import load
    from ..optional import require

    if not (math.isfinite(args.max_upload_mb) and 0 < args.max_upload_mb <= 10_000):
        raise UserError(f"--max-upload-mb must be in (0, 10000], got {args.max_upload_mb}")
    check_port(args.host, args.port)
    runs = Path(args.runs)
    if runs.exists() and not runs.is_dir():
        raise UserError(f"--runs {runs} is a file, not a folder")
    from .. import serving

    models = {}
    for path in args.checkpoints:
        p = Path(path)
        name = p.name if p.is_dir() else (f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem)
        model = load(p)
        serving.kind_of(model)   # a model with no page is refused before the server starts
        models[name if name not in models else f"{name} ({len(models) + 1})"] = model
    serving.analytics_off()
    require("gradio", "ganforge serve")   # after the checkpoints: a wrong path fails fast, without gradio's start-up
    from ..serve_app import build_app, launch

    app = build_app(models, runs, args.max_upload_mb)
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}: anyone who can reach this machine can use the page", file=sys.stderr)
    print(f"serving {len(models)} checkpoint(s) on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    launch(app, args.host, args.port, args.max_upload_mb, runs)
    return 0
