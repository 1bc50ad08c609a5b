"""Pick a backend's loader from a table of ``"module:function"`` entries (``auto``: the first).

Shared by :mod:`streamvoice.asr.loader` and :mod:`streamvoice.tts.loader`; the string entries keep
an engine's libraries unimported until it is chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from streamvoice.models.errors import ModelError


def resolve(table: Mapping[str, str], name: str, what: str, flag: str) -> Any:
    """The loader function ``table`` names for ``name``; ModelError naming the choices if none."""
    if name == "auto":
        name = next(iter(table))
    entry = table.get(name)
    if entry is None:
        raise ModelError(f"unknown {what} backend {name!r}; use {flag} with one of: auto, {', '.join(table)}")
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(module), function)
