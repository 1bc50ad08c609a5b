"""Imports only go down: pure core and model adapters never touch asyncio or sockets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "streamvoice"
LOWER_LAYERS = ("protocol", "audio", "asr", "tts", "models", "config.py", "textnorm.py")
FORBIDDEN = {"asyncio", "websockets", "aiortc", "uvloop"}


def _modules() -> list[Path]:
    found: list[Path] = []
    for entry in LOWER_LAYERS:
        path = PACKAGE / entry
        if path.is_dir():
            found.extend(sorted(path.rglob("*.py")))
        elif path.is_file():
            found.append(path)
    return found


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_there_are_lower_layer_modules_to_check() -> None:
    assert len(_modules()) >= 10


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_do_not_import_asyncio_or_sockets(path: Path) -> None:
    bad = _imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}; move that code to the runtime layer"
