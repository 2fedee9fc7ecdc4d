"""ganforge serve CKPT...: a local web page (gradio) to try every checkpoint, plus a runs dashboard."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command, add_device

    p = add_command(sub, "serve", "a local web page with one tab per checkpoint (generate, translate, classify, "
                                  "forecast) and a dashboard of the runs under --runs; needs ganforge[serve]",
                    "ganforge serve runs/gan-0001 runs/cyclegan-0001 --port 7860\n"
                    "ganforge serve runs/classifier-0001/best.pt --runs runs --max-upload-mb 5\n"
                    "ganforge serve runs/gan-0001 --device cuda:1    # every tab's model on the second GPU")
    p.add_argument("checkpoints", nargs="*", metavar="RUN_DIR_OR_CKPT",
                   help="checkpoints (files, .safetensors exports or run directories); none: only the runs tab")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--runs", default="runs", help="folder of run directories for the runs tab (default runs)")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="largest accepted upload (default 10 MB)")
    add_device(p)
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    from ..api import serve

    serve(args.checkpoints, args.host, args.port, args.runs, args.max_upload_mb, device=args.device)
    return 0
