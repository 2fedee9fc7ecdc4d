"""ganforge conv: the convolution -> activation -> pooling explorer."""
from __future__ import annotations

from ..errors import UserError


# The names in ganforge.viz.conv, repeated so `ganforge --help` need not import torch (a test keeps them equal).
KERNELS = ("edge", "sharpen", "sobel-x", "sobel-y", "box-blur", "gaussian", "emboss")
ACTIVATIONS = ("relu", "leaky-relu", "tanh", "sigmoid", "none")
POOLS = ("max", "avg")
PADDINGS = ("same", "valid")


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "conv", "convolve an image with a kernel, apply an activation and pool; "
                                 "save one figure of the stages and print their shapes",
                    "ganforge conv -o stages.png\n"
                    "ganforge conv photo.jpg --kernel sobel-x --activation tanh --pool avg --padding valid -o sobel.png\n"
                    "ganforge conv --kernel \"[[0,1,0],[1,-4,1],[0,1,0]]\" --color --save-arrays stages.npz")
    p.add_argument("image", nargs="?", help="image file (default: the embedded astronaut photo)")
    p.add_argument("--kernel", default="edge",
                   help=f"{', '.join(KERNELS)}, or a matrix like \"[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]\" (default: edge)")
    p.add_argument("--activation", default="relu", choices=list(ACTIVATIONS), help="default: relu")
    p.add_argument("--pool", default="max", choices=list(POOLS), help="pooling type (default: max)")
    p.add_argument("--pool-size", type=int, default=2, help="pooling window side (default 2)")
    p.add_argument("--stride", type=int, default=None, help="pooling stride (default: the window side)")
    p.add_argument("--padding", default="same", choices=list(PADDINGS),
                   help="'same' keeps the size (TensorFlow rule), 'valid' uses only full windows (default: same)")
    p.add_argument("--size", type=int, default=300, help="resize the image to SIZE x SIZE first (default 300)")
    p.add_argument("--color", action="store_true", help="keep RGB and convolve each channel (default: grayscale)")
    p.add_argument("-o", "--output", default="stages.png", help="figure to write (default stages.png)")
    p.add_argument("--save-arrays", metavar="FILE.npz", help="also save every stage as float32 arrays (H, W, C)")
    p.set_defaults(func=_conv)


def _conv(args) -> int:
    from ..viz.conv import explore, load_picture, parse_kernel, save_figure

    from ..files import output_file

    kernel = parse_kernel(args.kernel)   # before loading: a typo fails fast
    for flag, value, lo, hi in (("--size", args.size, 1, 8192), ("--pool-size", args.pool_size, 1, 1 << 30),
                                ("--stride", args.stride, 1, 1 << 30)):
        if value is not None and not lo <= value <= hi:
            raise UserError(f"{flag} must be in {lo}..{hi}, got {value}")
    out = output_file(args.output)
    if args.save_arrays:
        output_file(args.save_arrays)
    image, name = load_picture(args.image, args.size, args.color)
    stages = explore(image, kernel, args.activation, args.pool, args.pool_size, args.stride or args.pool_size,
                     args.padding)
    for st in stages:
        print(f"{st.title:<48} {st.shape_text:>12}  (H x W x C)")
    label = args.kernel if args.kernel.startswith("[") is False else "custom"
    save_figure(stages, out, f"{name}: {label} kernel -> {args.activation} -> {args.pool} pooling")
    print(f"wrote {out}")
    if args.save_arrays:
        import numpy as np

        from ..files import write_output

        keys = ("original", "convolution", "activation", "pooling")
        write_output(args.save_arrays, lambda f: np.savez_compressed(
            f, kernel=kernel.numpy(), **{k: st.data.permute(1, 2, 0).numpy() for k, st in zip(keys, stages)}))
        print(f"wrote {args.save_arrays}")
    return 0
