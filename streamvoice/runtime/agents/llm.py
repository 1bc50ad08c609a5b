"""The LLM agent: any OpenAI-compatible ``/v1/chat/completions`` with ``stream: true``.

llama.cpp's server, Ollama, vLLM and hosted APIs all speak it. Each user turn is sent with the
history (:class:`History`: token budget, only heard words kept) and the streamed deltas are
yielded as they arrive, so speech starts with the first sentence. Failures never hang: the
connect and every read wait at most ``timeout_s``, and a refused request, an HTTP error, a
broken stream or a timeout raises :class:`AgentFailed` with what went wrong.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from streamvoice.config import AgentConfig
from streamvoice.runtime.agent import AgentFailed, Heard, UserTurn
from streamvoice.runtime.agents.history import History
from streamvoice.runtime.agents.sse import SseDeltas

_ERROR_BODY_CHARS = 300


def completions_url(base: str) -> str:
    """``http://host:8080/v1`` (or the full endpoint) -> the chat completions endpoint."""
    url = base.rstrip("/")
    return url if url.endswith("/chat/completions") else url + "/chat/completions"


def check_settings(config: AgentConfig) -> None:
    """ValueError naming what an LLM agent lacks."""
    if not config.llm_url or not config.llm_model:
        raise ValueError("agent llm needs --llm-url and --llm-model (agent.llm_url, agent.llm_model)")
    if not config.llm_url.startswith(("http://", "https://")):
        raise ValueError(f"agent.llm_url must be an http:// or https:// URL, got {config.llm_url!r}")


class LlmAgent:
    """One conversation with an OpenAI-compatible server (see module docstring)."""

    def __init__(self, config: AgentConfig, system: str | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        check_settings(config)
        self.config = config
        self.url = completions_url(config.llm_url or "")
        self.history = History(config.history_tokens, system)
        timeout = httpx.Timeout(config.timeout_s, connect=min(5.0, config.timeout_s))
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def reply(self, turn: UserTurn) -> AsyncIterator[str]:
        self.history.add("user", turn.text)
        body: dict[str, Any] = {"model": self.config.llm_model, "messages": self.history.messages(), "stream": True}
        if self.config.max_tokens:
            body["max_tokens"] = self.config.max_tokens
        headers = {"Accept": "text/event-stream"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        try:
            async with self._client.stream("POST", self.url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    raw = (await response.aread())[:_ERROR_BODY_CHARS].decode("utf-8", "replace")
                    raise AgentFailed(f"the LLM server answered HTTP {response.status_code}: {_error_text(raw)}")
                events = SseDeltas()
                async for line in response.aiter_lines():
                    for delta in events.feed(line):
                        yield delta
                    if events.done:
                        return
                for delta in events.close():
                    yield delta
        except httpx.TimeoutException:
            raise AgentFailed(f"no answer from the LLM at {self.url} within {self.config.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise AgentFailed(f"the LLM at {self.url} failed: {type(exc).__name__}: {exc}") from None

    def heard(self, turn: UserTurn, heard: Heard) -> None:
        if heard.withdrawn:  # the user had not finished: the turn is asked again, whole
            self.history.retract("user", turn.text)
        elif heard.heard_text.strip():
            self.history.add("assistant", heard.heard_text.strip())

    async def aclose(self) -> None:
        await self._client.aclose()


def _error_text(raw: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the body's start."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return raw.strip()
    if isinstance(error, dict) and "message" in error:
        return str(error["message"])
    return raw.strip()
