"""``agent.kind = "module:function"``: any Python callable is an agent.

The callable takes the user's text and returns the reply as a string, an awaitable of one, or an
(async) iterable of text deltas (a generator streaming tokens). It keeps no history unless it
wants to: it is called once per user turn.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

from streamvoice.runtime.agent import Heard, UserTurn


def load_callable(spec: str) -> Callable[[str], Any]:
    """``package.module:function`` -> the function; ValueError says what is wrong with ``spec``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"agent {spec!r}: expected echo, llm or module:function")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"agent {spec!r}: cannot import {module_name!r} ({exc})") from None
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"agent {spec!r}: {module_name!r} has no {attr!r}")
    if not callable(target):
        raise ValueError(f"agent {spec!r}: {attr!r} is not callable")
    return target  # type: ignore[no-any-return]


class CallableAgent:
    """Wraps a user's function (see module docstring)."""

    def __init__(self, function: Callable[[str], Any]) -> None:
        self.function = function

    async def reply(self, turn: UserTurn) -> AsyncIterator[str]:
        result = self.function(turn.text)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, str):
            yield result
        elif hasattr(result, "__aiter__"):
            async for delta in result:
                yield str(delta)
        elif result is not None:
            for delta in result:
                yield str(delta)

    def heard(self, turn: UserTurn, heard: Heard) -> None:
        return None

    async def aclose(self) -> None:
        return None
