"""PROTOCOL §8.2, §9, §10 through a real socket: oversized frames and clients that stop reading.

A raw client (bench/rawws.py) sees every frame the server writes, in order, so these
tests check exactly what the independent client checked: the ``error`` comes before the close,
and the close carries the spec's code and reason.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import termios

import msgpack
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from bench.rawws import RawWs
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import Lane
from streamvoice.runtime.lanes import OutboundLanes, Outgoing
from streamvoice.runtime.wire import WireSession
from streamvoice.server import app
from streamvoice.server.app import SEND_BUFFER_BYTES


async def _ready(ws: RawWs, **hello: object) -> dict[str, object]:
    await ws.send_msg({"type": "hello", **hello})
    msg = await ws.read_message()
    assert isinstance(msg, dict) and msg["type"] == "ready", msg
    return msg


async def test_oversized_frame_gets_frame_too_large_then_1009(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_frame_bytes=2048)
    other = await RawWs.open(srv.port)
    await _ready(other)
    ws = await RawWs.open(srv.port)
    ready = await _ready(ws)
    assert ready["limits"]["max_frame_bytes"] == 2048  # type: ignore[index]
    await ws.send(msgpack.packb({"type": "audio", "seq": 0, "data": bytes(4000)}))
    got, close = await ws.until_close(5)
    assert [(m["type"], m["code"], m["fatal"]) for m in got] == [("error", "frame_too_large", True)]
    assert close == (1009, "frame_too_large")
    # before hello too: the frame is refused by size, never parsed
    early = await RawWs.open(srv.port)
    await early.send(b"\xc1" * 3000)
    got, close = await early.until_close(5)
    assert [m["code"] for m in got] == ["frame_too_large"] and close == (1009, "frame_too_large")
    # the session beside them lives
    await other.send_msg({"type": "ping", "id": 5})
    assert await other.read_message() == {"type": "pong", "id": 5}
    for conn in (ws, early, other):
        await conn.close()


async def test_stalled_reader_gets_slow_consumer_then_4008_even_when_it_reads_late(start_server) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    srv = await start_server(engine=engine, slow_client_timeout_s=1.0, max_audio_lead_ms=100_000)
    srv.slow_consumer_linger_s = 20.0
    ws = await RawWs.open(srv.port, rcvbuf=4096)
    ready = await _ready(ws)
    limits = ready["limits"]
    assert limits["max_unread_ms"] == 1000 and limits["max_queued_bytes"] > 0  # type: ignore[index]
    for turn in range(1, 4):  # about 3 x 300 s of audio, sent as fast as it is made (lead 100 s)
        await ws.send_msg({"type": "text", "text": "word " * 1000, "final": True, "turn": turn})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while srv.metrics.value("streamvoice_errors_total", code="slow_consumer") < 1:  # we read nothing
        assert loop.time() < deadline, "no slow_consumer within 10 s of not reading"
        await asyncio.sleep(0.1)
    calls = engine.tts_calls
    session = next(iter(srv.sessions.values()))
    assert session.lanes.bytes == 0  # queued frames dropped
    await asyncio.sleep(2.5)  # past the unread bound: the client reads late
    assert engine.tts_calls == calls  # synthesis stopped
    assert len(srv.sessions) == 1  # the connection waits for the late reader
    got, close = await ws.until_close(15)
    kinds = [m["type"] for m in got]
    assert kinds[0] == "tts_audio" and set(kinds[:-1]) <= {"tts_audio", "tts_done"}
    last = got[-1]
    assert (last["type"], last["code"], last["fatal"]) == ("error", "slow_consumer", True)
    assert close == (4008, "slow_consumer")
    await ws.close()
    for _ in range(50):
        if not srv.sessions:
            break
        await asyncio.sleep(0.05)
    assert srv.sessions == {}


async def test_reader_that_never_comes_back_is_dropped_after_the_linger(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(slow_client_timeout_s=0.5, max_audio_lead_ms=100_000)
    srv.slow_consumer_linger_s = 1.0
    ws = await RawWs.open(srv.port, rcvbuf=4096)
    await _ready(ws)
    await ws.send_msg({"type": "text", "text": "word " * 2000, "final": True})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while srv.sessions:
        assert loop.time() < deadline, "a client that never reads again holds its session"
        await asyncio.sleep(0.1)
    assert srv.metrics.value("streamvoice_errors_total", code="slow_consumer") == 1
    ws.abort()


def kernel_unsent(session: WireSession) -> int:
    """Bytes in the server socket's send queue (SIOCOUTQ): written by the server, not yet taken by the client."""
    sock = session.transport.conn.transport.get_extra_info("socket")  # type: ignore[attr-defined]
    out = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, out)
    return out[0]


async def test_library_client_that_pauses_reading_gets_slow_consumer(start_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The independent client's case: a websockets-library client (default buffers, keepalive off, real-time
    pacing) stops reading mid-reply. Before the send buffer was capped, the kernel took megabytes, the
    writer never waited, no slow_consumer came and the server's keepalive closed with 1011 instead; and
    a keepalive timing out after the slow_consumer error put 1011 in place of the 4008."""
    monkeypatch.setattr(app, "PING_INTERVAL_S", 0.5)  # the server pings often, and gives up 12 s after
    monkeypatch.setattr(app, "KEEPALIVE_TIMEOUT_S", 12.0)
    srv = await start_server(slow_client_timeout_s=2.0)
    srv.slow_consumer_linger_s = 30.0
    async with ws_connect(f"ws://127.0.0.1:{srv.port}/v1/stream", compression=None, ping_interval=None) as ws:
        # 48 kHz float: 192 kB per second of audio, so what the buffers take is seconds of real-time pacing
        await ws.send(msgpack.packb({"type": "hello", "tts": {"sample_rate": 48000, "encoding": "pcm_f32le"}}))
        assert msgpack.unpackb(await ws.recv())["type"] == "ready"
        await ws.send(msgpack.packb({"type": "text", "text": "word " * 3900, "final": True}))
        assert msgpack.unpackb(await ws.recv())["type"] == "tts_audio"  # playing; from here nothing is read
        session = next(iter(srv.sessions.values()))
        assert isinstance(session, WireSession)
        loop = asyncio.get_running_loop()
        started, kernel = loop.time(), 0
        while srv.metrics.value("streamvoice_errors_total", code="slow_consumer") < 1:
            kernel = max(kernel, kernel_unsent(session))
            assert loop.time() - started < 20, f"no slow_consumer 20 s after the client stopped reading ({kernel} B)"
            await asyncio.sleep(0.05)
        assert kernel <= 4 * SEND_BUFFER_BYTES, kernel  # twice the request, one segment over
        await asyncio.sleep(max(0.0, started + 15.0 - loop.time()))  # reads late: past the keepalive timeout
        last = None
        try:
            while True:
                last = msgpack.unpackb(await ws.recv())
        except ConnectionClosed as exc:
            close = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else None
        assert last is not None and (last["type"], last["code"], last["fatal"]) == ("error", "slow_consumer", True)
        assert close == (4008, "slow_consumer")


def test_lanes_count_queued_bytes() -> None:
    async def run() -> None:
        lanes = OutboundLanes(transcript_max=2)
        lanes.put(Outgoing(Lane.CONTROL, b"x" * 10, "error"))
        lanes.put(Outgoing(Lane.TRANSCRIPT, b"p" * 5, "partial"))
        lanes.put(Outgoing(Lane.TRANSCRIPT, b"p" * 6, "partial"))
        lanes.put(Outgoing(Lane.TRANSCRIPT, b"f" * 7, "final"))  # drops the oldest partial
        await lanes.put_audio(Outgoing(Lane.AUDIO, b"a" * 100, "tts_audio", 1))
        assert lanes.bytes == 10 + 6 + 7 + 100
        assert lanes.purge_turn(1) == 1 and lanes.bytes == 23
        item = await lanes.get()
        assert item is not None and item.kind == "error" and lanes.bytes == 13
        lanes.clear()
        assert lanes.bytes == 0 and len(lanes) == 0

    asyncio.run(run())
