"""Imports only go down: the import-linter contracts of pyproject.toml hold (also run by `make lint`).

The contracts: README's layers; pure core and model adapters never import asyncio or sockets;
the session and its pipelines never import a wire format (the transport seam); the engine never
imports a model backend.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_four_contracts_are_declared() -> None:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    assert [c["type"] for c in contracts] == ["layers", "forbidden", "forbidden", "forbidden"]


def test_import_contracts_hold() -> None:
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0
