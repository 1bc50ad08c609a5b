"""`streamvoice serve` (placeholder until the server lands)."""

from __future__ import annotations

import argparse
import sys

from streamvoice.config import Config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="run the WebSocket server")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    print("streamvoice: the server is not built yet (issue 6); models are installed and verified.", file=sys.stderr)
    return 1
