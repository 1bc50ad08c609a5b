"""Floods against a running server: connection churn, handshakes that never finish, idle sockets at
the admission limit. Each returns its figures; the caller measures the server's memory around it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgpack
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.rawws import RawWs


async def churn(url: str, cycles: int, *, concurrency: int = 8,
                done: dict[str, int] | None = None) -> dict[str, Any]:
    """``cycles`` times: connect, hello, ready, bye, the server's bye and close 1000 (counted into
    ``done`` if given, so that a caller can watch the progress)."""
    done = {} if done is None else done
    done.update({"cycles": 0, "clean": 0, "refused": 0, "other": 0})
    todo = iter(range(cycles))

    async def worker() -> None:
        for _ in todo:
            done["cycles"] += 1
            try:
                async with ws_connect(url, compression=None, ping_interval=None, open_timeout=20) as ws:
                    await ws.send(msgpack.packb({"type": "hello"}))
                    first = msgpack.unpackb(await ws.recv())
                    await ws.send(msgpack.packb({"type": "bye"}))
                    last = None
                    with contextlib.suppress(ConnectionClosed):
                        while True:
                            last = msgpack.unpackb(await ws.recv())
                    ok = first.get("type") == "ready" and (last or {}).get("type") == "bye" and ws.close_code == 1000
                    done["clean" if ok else "other"] += 1
            except (InvalidStatus, ConnectionClosed):
                done["refused"] += 1
            except (OSError, TimeoutError):
                done["other"] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def stuck_handshakes(port: int, n: int, *, wait_s: float = 40.0) -> dict[str, Any]:
    """``n`` connections that never finish: half stop inside the HTTP upgrade, half never send ``hello``.

    Every one must be closed by the server: the upgrade by its open timeout, the hello-less
    session with ``error`` ``timeout`` and close 4001 (PROTOCOL §4).
    """
    half_http: list[RawWs] = []
    no_hello: list[RawWs] = []
    for i in range(n):
        if i % 2:
            ws = await RawWs.open(port, handshake=False)
            await ws.write_raw(b"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
            half_http.append(ws)
        else:
            no_hello.append(await RawWs.open(port))

    async def closed_http(ws: RawWs) -> bool:
        try:
            async with asyncio.timeout(wait_s):
                while await ws.reader.read(4096):
                    pass
            return True
        except (TimeoutError, ConnectionError):
            return False

    async def timed_out(ws: RawWs) -> bool:
        got, close = await ws.until_close(wait_s)
        return close == (4001, "timeout") and [m.get("code") for m in got] == ["timeout"]

    http_ok = await asyncio.gather(*(closed_http(ws) for ws in half_http))
    hello_ok = await asyncio.gather(*(timed_out(ws) for ws in no_hello))
    for ws in (*half_http, *no_hello):
        ws.abort()
    return {"handshakes": n, "http_closed_by_server": sum(http_ok), "http_stuck": len(half_http),
            "hello_timeout_4001": sum(hello_ok), "hello_less": len(no_hello),
            "all_closed_as_specified": sum(http_ok) + sum(hello_ok) == n}


async def _sessions_open(url: str) -> int:
    """The server's session gauge, from /metrics."""
    host = url.split("//", 1)[1].split("/", 1)[0]
    reader, writer = await asyncio.open_connection(*host.rsplit(":", 1))
    writer.write(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    body = (await reader.read()).decode()
    writer.close()
    line = next(x for x in body.splitlines() if x.startswith("streamvoice_sessions "))
    return int(float(line.split()[1]))


async def idle_at_limit(url: str, limit: int, *, hold_s: float = 5.0) -> dict[str, Any]:
    """``limit`` idle sessions (the server's ``max_sessions``), one more refused with 1013, all still answer."""
    for _ in range(300):  # sessions of the phases before are still closing (close handshakes, lingering readers)
        if await _sessions_open(url) == 0:
            break
        await asyncio.sleep(0.2)
    open_before = await _sessions_open(url)
    sessions = []
    refused_early = 0
    for _ in range(limit):
        ws = await ws_connect(url, compression=None, ping_interval=None, open_timeout=30)
        try:
            await ws.send(msgpack.packb({"type": "hello"}))
            if msgpack.unpackb(await ws.recv()).get("type") == "ready":
                sessions.append(ws)
        except ConnectionClosed:
            refused_early += 1  # the server counted more sessions than this phase opened
    ready = len(sessions)
    refused = None
    try:
        async with ws_connect(url, compression=None, ping_interval=None) as extra:
            await extra.recv()
    except ConnectionClosed as exc:
        refused = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else None
    await asyncio.sleep(hold_s)

    async def pong(ws: Any, i: int) -> bool:
        await ws.send(msgpack.packb({"type": "ping", "id": i}))
        async with asyncio.timeout(10):
            while True:
                msg = msgpack.unpackb(await ws.recv())
                if msg.get("type") == "pong":
                    return bool(msg.get("id") == i)

    pongs = await asyncio.gather(*(pong(ws, i) for i, ws in enumerate(sessions)), return_exceptions=True)
    for ws in sessions:
        await ws.close()
    return {"idle_sessions": ready, "ready": ready, "refused_below_limit": refused_early,
            "sessions_open_before": open_before, "over_limit_close": list(refused) if refused else None,
            "answered_after_idle": sum(p is True for p in pongs)}
