"""Command-line interface: argument parsing only; the work happens in ganforge.api & co.

Every command module in ganforge.commands adds its sub-commands through register(sub).
A UserError prints as one line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import UserError

# One module per command, named after it (`import` is a keyword: import_); --help lists them in this order.
COMMAND_MODULES = ("train", "sample", "models", "datasets", "presets", "forecast", "backtest", "translate", "conv",
                   "features", "eval", "export", "import_", "serve", "upscale", "sweep")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter with the terminal width read once per build_parser, not once per flag
    (argparse makes a formatter for every add_argument: a third of a parser build went there)."""

    width: int | None = None

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, width or HelpFormatter.width)


def build_parser() -> argparse.ArgumentParser:
    import shutil

    HelpFormatter.width = shutil.get_terminal_size().columns - 2   # what argparse itself would use
    parser = argparse.ArgumentParser(
        prog="ganforge", formatter_class=HelpFormatter,
        description="Train, evaluate and use GANs, CycleGAN, CNN classifiers and GRU forecasters.",
        epilog="example:\n  ganforge train gan --model dcgan --data mnist5k --steps 2000\n"
               "  ganforge sample runs/gan-0001/checkpoint.pt -n 64 -o grid.png")
    from .version import __version__

    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    parser.add_argument("--max-image-pixels", type=int, metavar="N",
                        help="largest image (width x height) any command reads; larger ones are refused as possible "
                             "decompression bombs (default 178956970, or $GANFORGE_MAX_IMAGE_PIXELS; 0: no limit)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    add_threads(parser)
    return parser


# Commands that only list or convert (no tensors worth a thread pool) take no --threads.
NO_COMPUTE = frozenset({"models", "datasets", "presets", "import"})


def add_threads(parser: argparse.ArgumentParser, name: str = "") -> None:
    """--threads on every command that computes: training and backtest have it as a config field
    (checked and applied with the run); every other command gets this flag, applied in main()."""
    from .config.base import THREADS_HELP

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for action in subs:
        for child, p in action.choices.items():
            add_threads(p, f"{name} {child}".strip())
    if subs or name.split(" ")[0] in NO_COMPUTE or "--threads" in parser._option_string_actions:
        return
    if any(a.nargs == argparse.REMAINDER for a in parser._actions):   # it parses its own flags (sweep: --threads)
        return
    parser.add_argument("--threads", type=int, default=0, metavar="N", help=f"{THREADS_HELP} (default: 0)")


DEVICE_HELP = ("where the model computes: auto (CUDA when present, else the CPU), cpu, cuda or cuda:N "
               "(default: auto; results come back on the CPU either way)")


def add_device(p: argparse.ArgumentParser) -> None:
    """--device of the commands that use a checkpoint (sample, translate, upscale, eval, forecast,
    serve); main() turns it into a torch.device before the command runs, so a missing GPU is one
    line and exit 2 wherever the flag is (training has its own --device, a config field)."""
    p.add_argument("--device", default="auto", metavar="DEVICE", help=DEVICE_HELP)
    p.set_defaults(inference_device=True)


def add_command(sub, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A sub-command parser whose --help ends with an example."""
    return sub.add_parser(name, help=help, description=help, formatter_class=HelpFormatter,
                          epilog="example:\n  " + example.strip().replace("\n", "\n  "))


def add_file_or_folder_io(p: argparse.ArgumentParser, checkpoint_help: str) -> None:
    """The CHECKPOINT INPUT -o OUTPUT arguments of commands that map images to images (translate, upscale)."""
    p.add_argument("checkpoint", help=checkpoint_help)
    p.add_argument("input", help="an image file, or a folder (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="output folder (names and sub-folders are kept), "
                                                           "or a file name when INPUT is one image")


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    if "train" in words and words[words.index("train") + 1:words.index("train") + 2] == ["gan"]:
        from . import models  # noqa: F401  (the GAN families register their flags; only `train gan` pays for it)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    if args.max_image_pixels is not None:
        if args.max_image_pixels < 0:
            parser.error(f"--max-image-pixels must be >= 0, got {args.max_image_pixels}")
        os.environ["GANFORGE_MAX_IMAGE_PIXELS"] = str(args.max_image_pixels)
    try:
        if getattr(args, "threads", None) is not None:   # training flags are applied again, with the run
            _threads(args.threads)
        if getattr(args, "inference_device", False):
            from .use.load import inference_device

            args.device = inference_device(args.device)
        return args.func(args) or 0
    except UserError as e:
        if not (e.every_rank and os.environ.get("RANK", "0") != "0"):   # one message per run under torchrun
            print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # `ganforge models | head`: the reader has gone, so stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error when Python flushes at exit
        return 141                                                        # 128 + SIGPIPE, what a shell shows for cat
    except (OSError, MemoryError, RuntimeError) as e:   # the last net under every command: see _plain
        message = _plain(e)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 2


def _threads(n: int) -> None:
    from .config.base import RunConfig, check_limits

    check_limits(RunConfig(threads=n))   # the same limits and message as the training flag
    from .engine.runtime import use_threads

    use_threads(n)


def _plain(e: BaseException) -> str | None:
    """One line for the environment's failures that no command checks for everywhere (a full disk,
    a file that cannot be opened, memory that cannot be had); None for anything else (a bug: traceback)."""
    from .files import is_disk_full

    if is_disk_full(e):
        return f"the disk is full{f' writing {e.filename}' if e.filename else ''}; free some space and run again"
    if isinstance(e, OSError) and e.filename and e.strerror:
        return f"cannot use {e.filename}: {e.strerror}"
    text = str(e)
    if isinstance(e, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower():
        first = text.strip().splitlines()[0][:200] if text.strip() else "MemoryError"
        return f"not enough memory for this setting ({first}); use smaller sizes or batches"
    return None


if __name__ == "__main__":
    sys.exit(main())
