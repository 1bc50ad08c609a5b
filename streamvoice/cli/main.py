"""Entry point: parse flags, build the one Config, hand it to the chosen subcommand.

Each subcommand module exposes ``register(subparsers)`` which adds its parser and sets
``handler=run`` where ``run(args, config) -> int``. Modules import heavy libraries inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from streamvoice.config import ConfigError, load_config
from streamvoice.models.errors import ModelError

COMMAND_MODULES = (
    "streamvoice.cli.models_cmd",
    "streamvoice.cli.transcribe_cmd",
    "streamvoice.cli.say_cmd",
    "streamvoice.cli.voices_cmd",
    "streamvoice.cli.serve_cmd",
    "streamvoice.cli.mic_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamvoice", description=__doc__)
    parser.add_argument("--models-dir", help="model folder (env STREAMVOICE_MODELS)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (env STREAMVOICE_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.models_dir:
        overrides["models"] = {"dir": args.models_dir}
    if args.log_level:
        overrides["log_level"] = args.log_level
    section_overrides = getattr(args, "config_overrides", None)
    try:
        if section_overrides is not None:
            for section, values in section_overrides(args).items():
                overrides.setdefault(section, {}).update(values)  # type: ignore[attr-defined]
        config = load_config(os.environ, overrides)
    except ConfigError as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    try:
        return int(args.handler(args, config) or 0)
    except ModelError as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
