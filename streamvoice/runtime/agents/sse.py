"""Server-sent events of an OpenAI-compatible chat stream -> text deltas (pure, line by line).

Each event is ``data: <json>`` lines ended by a blank line; ``data: [DONE]`` ends the stream. A
chunk's text is ``choices[0].delta.content``; an ``error`` object (some servers send one mid-
stream) raises :class:`~streamvoice.runtime.agent.AgentFailed`. Comments (``:``) and other
fields (``event``, ``id``, ``retry``) carry nothing we use.
"""

from __future__ import annotations

import json
from typing import Any

from streamvoice.runtime.agent import AgentFailed


class SseDeltas:
    """Feed lines (without their newline); get the text deltas each completed event carries."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self.done = False  # [DONE] seen

    def feed(self, line: str) -> list[str]:
        if self.done:
            return []
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return []
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return []

    def close(self) -> list[str]:
        """End of the body: an event not followed by a blank line still counts."""
        return self._dispatch()

    def _dispatch(self) -> list[str]:
        if not self._data:
            return []
        data, self._data = "\n".join(self._data), []
        if data.strip() == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            raise AgentFailed(f"the LLM server sent an event that is not JSON: {data[:120]!r}") from None
        return _content(chunk)


def _content(chunk: Any) -> list[str]:
    if not isinstance(chunk, dict):
        return []
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise AgentFailed(f"the LLM server reported an error: {message}")
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return []
    delta = choices[0].get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    return [content] if isinstance(content, str) and content else []
