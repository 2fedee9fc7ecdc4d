"""ganforge import cyclegan G_A.pth [G_B.pth] -o RUN_DIR: the reference implementation's generators."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "import", "turn weights saved by other projects into a ganforge checkpoint",
                    "ganforge import cyclegan latest_net_G_A.pth latest_net_G_B.pth -o runs/horse2zebra\n"
                    "ganforge translate runs/horse2zebra horses/ -o zebras/")
    kinds = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    q = add_command(kinds, "cyclegan", "generators of junyanz/pytorch-CycleGAN-and-pix2pix (plain state dicts of "
                                       "its ResnetGenerator, instance norm) as a ganforge CycleGAN checkpoint",
                    "ganforge import cyclegan latest_net_G_A.pth latest_net_G_B.pth -o runs/h2z --data horse2zebra\n"
                    "ganforge import cyclegan monet2photo.pth --generator resnet-9 -o runs/monet2photo")
    q.add_argument("g_a", metavar="G_A.pth", help="generator A -> B (the reference's latest_net_G_A.pth)")
    q.add_argument("g_b", metavar="G_B.pth", nargs="?", help="generator B -> A (optional; without it only AtoB)")
    q.add_argument("--generator", choices=["resnet-9", "resnet-6"], default=None,
                   help="expected architecture (default: read from the file's residual blocks)")
    q.add_argument("--data", default=None, help="the dataset the generators were trained on, for `ganforge eval` "
                                                "(e.g. horse2zebra; default photo2vintage)")
    q.add_argument("--size", type=int, default=256, help="the training crop size to record (default 256, the "
                                                          "reference's); translate works at any size")
    q.add_argument("-o", "--output", required=True, help="run directory to write checkpoint.pt into")
    q.set_defaults(func=_import_cyclegan)


def _import_cyclegan(args) -> int:
    from ..errors import UserError
    from ..use.import_cyclegan import import_cyclegan

    if not 24 <= args.size <= 8192 or args.size % 4:
        raise UserError(f"--size must be a multiple of 4 in 24..8192, got {args.size}")
    path = import_cyclegan(args.g_a, args.g_b, args.output, args.generator, args.data, args.size)
    from ..use.load import load

    tr = load(path, "cyclegan")
    print(f"wrote {path}: {tr.config.generator}, width {tr.config.width}, "
          f"{' and '.join(tr.nets)} ({'G_A' + (' and G_B' if args.g_b else '')}); "
          f"use it with ganforge translate / export / eval / serve")
    return 0
