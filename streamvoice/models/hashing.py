"""Streaming sha256 of files and of folders of files."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def folder_digest(folder: Path, suffix: str) -> tuple[str, int]:
    """sha256 over sorted ``name sha256 size`` lines, and the number of files counted."""
    lines = [
        f"{p.name} {file_sha256(p)} {p.stat().st_size}"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name.endswith(suffix)
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), len(lines)
