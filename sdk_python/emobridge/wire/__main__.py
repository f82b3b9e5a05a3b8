"""``python -m emobridge.wire [--force] [--out DIR]``: generate the gRPC/protobuf stubs (setup.sh runs it)."""

from __future__ import annotations

import argparse
import sys

from emobridge.wire import PROTO_FILE, WireError, find_proto_root, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emobridge.wire",
                                     description=f"Generate the Python stubs of {PROTO_FILE} with grpcio-tools.")
    parser.add_argument("--force", action="store_true", help="regenerate even when the stubs are current")
    parser.add_argument("--out", help="output folder (default: emobridge/wire/_generated)")
    args = parser.parse_args(argv)
    try:
        root = find_proto_root()
        out = generate(root, args.out, force=args.force)
    except WireError as err:
        print(f"emobridge.wire: {err}", file=sys.stderr)
        return 1
    print(f"emobridge.wire: stubs of {root / PROTO_FILE} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
