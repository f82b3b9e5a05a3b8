"""The `emobridge` command: one module per subcommand, each exposing ``register(subparsers)``.

A subcommand module adds its parser with ``set_defaults(run=callable)``; the callable takes the
parsed arguments and returns an exit code. User errors (bad files, bad emotion strings, ...) are
raised as ``CliError`` or ``ValueError`` subclasses and printed as one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Subcommand modules, in help order. Each adds its own parser.
SUBCOMMANDS = ("bake", "bake-batch", "render", "export", "preview", "train", "bench", "eval", "serve", "stream", "mic")


class CliError(Exception):
    """A user-facing error: printed as 'emobridge: error: <message>' with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from emobridge import __version__

    parser = argparse.ArgumentParser(
        prog="emobridge",
        description="Speech-driven, emotion-controllable ARKit-52 face animation.",
    )
    parser.add_argument("--version", action="version", version=f"emobridge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"emobridge.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="emobridge: %(levelname)s: %(message)s" if args.verbose else "emobridge: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (CliError, ValueError, OSError) as err:
        print(f"emobridge: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emobridge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
