"""`streamvoice voices`: list the installed Kokoro voices with language and gender."""

from __future__ import annotations

import argparse
import json
from typing import Any

from streamvoice.config import Config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("voices", help="list the installed TTS voices")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from streamvoice.models import require
    from streamvoice.tts.voices import VoiceBank

    bank = VoiceBank(require(config.models.dir, config.tts.model) / "voices")
    infos = [bank.info(name) for name in bank.names()]
    if args.json:
        print(json.dumps([{"name": i.name, "language": i.language, "gender": i.gender, "accent": i.accent}
                          for i in infos]))
        return 0
    print(f"{'voice':<16} {'language':<9} {'gender':<8} accent")
    for i in infos:
        print(f"{i.name:<16} {i.language:<9} {i.gender:<8} {i.accent or ''}")
    print(f"\n{len(infos)} voices; blend with e.g. --voice 'af_heart:0.7,am_adam:0.3'")
    return 0
