"""Pick a backend's loader from a table of ``"module:function"`` entries, and what ``auto`` means.

Shared by :mod:`streamvoice.asr.loader` and :mod:`streamvoice.tts.loader`; the string entries keep
an engine's libraries unimported until it is chosen. ``auto`` is MLX on Apple Silicon (macOS
arm64: MLX's own machine, Metal and unified memory), when the table has it; elsewhere the table's
first entry (CTranslate2, ONNX Runtime), since MLX on x86 CPUs runs several times slower.
"""

from __future__ import annotations

import importlib
import platform
import sys
from collections.abc import Mapping
from typing import Any

from streamvoice.models.errors import ModelError


def is_apple_silicon(system: str | None = None, machine: str | None = None) -> bool:
    return (system or sys.platform) == "darwin" and (machine or platform.machine()) == "arm64"


def auto_backend(table: Mapping[str, str], apple_silicon: bool | None = None) -> str:
    """The backend ``auto`` stands for in ``table`` on this machine (or on the one described)."""
    if "mlx" in table and (is_apple_silicon() if apple_silicon is None else apple_silicon):
        return "mlx"
    return next(iter(table))


def resolve(table: Mapping[str, str], name: str, what: str, flag: str) -> Any:
    """The loader function ``table`` names for ``name``; ModelError naming the choices if none."""
    if name == "auto":
        name = auto_backend(table)
    entry = table.get(name)
    if entry is None:
        raise ModelError(f"unknown {what} backend {name!r}; use {flag} with one of: auto, {', '.join(table)}")
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(module), function)
