"""A real OpenAI-compatible streaming server on loopback, scripted (tests and ``voice_loop --agent llm``).

``POST /v1/chat/completions`` records the JSON body and answers with server-sent events: the
scripted reply split into deltas, ``first_token_s`` before the first and ``1/tokens_per_s``
between the rest, then ``data: [DONE]``. ``status`` != 200 answers that status with an
OpenAI-style error body; ``hang`` answers nothing (a timeout test). Plain asyncio, HTTP/1.1 with
``Connection: close`` (the body ends with the connection), as llama.cpp and vLLM servers do.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeLlm:
    replies: list[list[str]] = field(default_factory=list)  # one list of deltas per request, in order
    first_token_s: float = 0.0
    tokens_per_s: float = 0.0  # 0: no pause between deltas
    status: int = 200
    hang: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeLlm:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.headers.append(headers)
            self.requests.append(json.loads(body))
            if self.hang:
                await asyncio.sleep(3600)
            if self.status != 200:
                error = json.dumps({"error": {"message": "model is overloaded", "type": "server_error"}}).encode()
                writer.write(f"HTTP/1.1 {self.status} Error\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(error)}\r\nConnection: close\r\n\r\n".encode() + error)
                await writer.drain()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Connection: close\r\n\r\n")
            deltas = self.replies[len(self.requests) - 1] if len(self.requests) <= len(self.replies) else ["OK."]
            gap = 1 / self.tokens_per_s if self.tokens_per_s else 0.0
            for i, delta in enumerate(deltas):
                await asyncio.sleep(self.first_token_s if i == 0 else gap)
                chunk = {"id": "c1", "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]}
                writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
                await writer.drain()
            writer.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # only ``__aexit__`` cancels a handler, and awaits it: ending here keeps asyncio's stream
            # callback from logging the cancelled task as an unhandled error
            return
        finally:
            writer.close()
