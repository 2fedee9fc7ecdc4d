"""Command-line interface: argument parsing only; the work happens in ganforge.api & co.

Every command module in ganforge.commands adds its sub-commands through register(sub).
A UserError prints as one line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UserError

COMMAND_MODULES = ("train", "sample", "info", "forecast", "cyclegan", "cnn", "eval")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganforge", formatter_class=HelpFormatter,
        description="Train, evaluate and use GANs, CycleGAN, CNN classifiers and GRU forecasters.",
        epilog="example:\n  ganforge train gan --model dcgan --data mnist5k --steps 2000\n"
               "  ganforge sample runs/gan-0001/checkpoint.pt -n 64 -o grid.png")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    return parser


def add_command(sub, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A sub-command parser whose --help ends with an example."""
    return sub.add_parser(name, help=help, description=help, formatter_class=HelpFormatter,
                          epilog="example:\n  " + example.strip().replace("\n", "\n  "))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return args.func(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
