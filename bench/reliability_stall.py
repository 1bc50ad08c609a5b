"""Fault case: a client that stops reading in the middle of a long reply (the independent client's case).

Issue 16's independent client stopped reading for 45 s and saw close 1006, no ``slow_consumer``,
while the server's memory rose ~120 MB. Here a websockets-library client (its own keepalive off,
else it ends the connection itself; PROTOCOL §8.2) asks for a long reply, reads its first audio,
reads nothing for 45 s, then reads what is left. The spec's outcome: ``error`` ``slow_consumer``
last, then close 4008 with that reason; the server's RSS is sampled through the stall.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from bench.reliability_server import ServerProcess

# about 75 s of speech at 48 kHz float (192 kB/s): far more than the buffers on the way hold, even
# when Kokoro runs slower than real time on the shared machine
REPLY = " ".join(["The quick brown fox jumps over the lazy dog near the quiet river bank."] * 18)


async def stalled_reader(server: ServerProcess, *, stall_s: float = 45.0) -> dict[str, Any]:
    async with ws_connect(server.url, compression=None, ping_interval=None, open_timeout=30) as ws:
        await ws.send(msgpack.packb({"type": "hello", "tts": {"sample_rate": 48000, "encoding": "pcm_f32le"}}))
        limits = msgpack.unpackb(await ws.recv())["limits"]
        await ws.send(msgpack.packb({"type": "text", "text": REPLY, "final": True}))
        async with asyncio.timeout(120):
            while msgpack.unpackb(await ws.recv())["type"] != "tts_audio":
                pass
        before = peak = server.rss_mb()  # from here nothing is read
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < stall_s:
            peak = max(peak, server.rss_mb())
            await asyncio.sleep(0.5)
        audio_late, last, close = 0, None, None
        try:
            async with asyncio.timeout(90):
                while True:
                    last = msgpack.unpackb(await ws.recv())
                    audio_late += last["type"] == "tts_audio"
        except ConnectionClosed as exc:
            close = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else (1006, "")
    after = server.rss_mb()
    last_error = last.get("code") if last is not None and last.get("type") == "error" else None
    return {
        "stall_s": stall_s, "max_unread_ms": limits["max_unread_ms"], "max_queued_bytes": limits["max_queued_bytes"],
        "audio_read_late": audio_late, "last_error": last_error, "close": list(close) if close else None,
        "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1), "rss_after_mb": round(after, 1),
        "ok": last_error == "slow_consumer" and close == (4008, "slow_consumer"),
    }
