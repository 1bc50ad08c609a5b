"""Regenerate ``protocol/schema/*.json`` and ``protocol/vectors/vectors.json`` from the models.

Run ``python -m streamvoice.protocol.gen`` after changing a model; ``--check`` only compares
and exits 1 on drift (the tests do the same). Output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from streamvoice.protocol.messages import CLIENT_ADAPTER, SERVER_ADAPTER
from streamvoice.protocol.vectors import build_vectors

SPEC_DIR = Path(__file__).resolve().parents[2] / "protocol"

_BYTES_NOTE = (
    'Fields with "format": "binary" are msgpack bin values (never str). Integers are msgpack '
    "ints; number fields also accept ints. Unknown fields are ignored."
)


def build_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas (2020-12) of every client and server message, keyed by file name."""
    out: dict[str, dict[str, Any]] = {}
    for name, adapter, title in (
        ("client.schema.json", CLIENT_ADAPTER, "streamvoice protocol v1: client -> server message"),
        ("server.schema.json", SERVER_ADAPTER, "streamvoice protocol v1: server -> client message"),
    ):
        schema = adapter.json_schema(mode="validation")
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://streamvoice.dev/protocol/v1/{name}",
            "title": title,
            "description": _BYTES_NOTE,
            **schema,
        }
    return out


def render(data: Any) -> str:
    """Stable JSON text used for every generated file."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[Path, str]:
    """Every generated file and its expected content."""
    files = {SPEC_DIR / "schema" / name: render(schema) for name, schema in build_schemas().items()}
    files[SPEC_DIR / "vectors" / "vectors.json"] = render(build_vectors())
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report drift instead of writing")
    args = parser.parse_args(argv)
    drift = []
    for path, text in generated_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        drift.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in drift:
        print(("drift: " if args.check else "wrote: ") + str(path))
    return 1 if (args.check and drift) else 0


if __name__ == "__main__":
    sys.exit(main())
