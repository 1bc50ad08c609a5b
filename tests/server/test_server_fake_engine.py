"""The whole server over real loopback sockets, with the model-free FakeEngine."""

from __future__ import annotations

import asyncio
import itertools
import socket
import urllib.request

import msgpack
import numpy as np
import pytest
from websockets.asyncio.client import connect as ws_connect

from streamvoice.client import ServerClosed, connect
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol import ErrorMessage, Final, Partial, Pong, ServerFlow, Speech, TtsAudio, TtsDone
from tests.server.conftest import url

RATE = 16000


def speechlike(seconds: float) -> np.ndarray:
    """Voiced-sounding audio (VAD hears it) followed by nothing."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 560, 700), 1))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    return (0.3 * tone * envelope).astype(np.float32)


async def collect(session, until, timeout: float = 10.0) -> list:  # type: ignore[no-untyped-def]
    got = []
    async with asyncio.timeout(timeout):
        while True:
            msg = await session.recv()
            got.append(msg)
            if until(msg):
                return got


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_http_endpoints(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    loop = asyncio.get_running_loop()
    status, body = await loop.run_in_executor(None, http_get, srv.port, "/healthz")
    assert (status, body) == (200, "ok\n")
    status, _ = await loop.run_in_executor(None, http_get, srv.port, "/readyz")
    assert status == 200
    status, body = await loop.run_in_executor(None, http_get, srv.port, "/metrics")
    assert status == 200 and "streamvoice_sessions 0.0" in body and "streamvoice_sessions_accepted_total 0.0" in body
    status, body = await loop.run_in_executor(None, http_get, srv.port, "/")
    assert status == 200 and "<html" in body.lower()
    status, _ = await loop.run_in_executor(None, http_get, srv.port, "/nothing-here.js")
    assert status == 404


async def test_audio_gives_speech_events_and_a_final(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    async with connect(url(srv)) as s:
        audio = np.concatenate([speechlike(2.0), np.zeros(RATE, np.float32)])
        for i in range(0, len(audio), 320):
            await s.send_audio(audio[i : i + 320])
        await s.end_audio()
        got = await collect(s, lambda m: isinstance(m, Final))
    speech = [(m.event, m.utterance) for m in got if isinstance(m, Speech)]
    assert speech == [("start", 1), ("end", 1)]  # both before the final, in order
    final = got[-1]
    assert isinstance(final, Final) and final.utterance == 1 and "hello" in final.text


async def test_text_gives_paced_audio_then_done(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_audio_lead_ms=300)
    async with connect(url(srv)) as s:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        turn = await s.say("One two three four five six seven eight nine ten. Eleven twelve.")
        got = await collect(s, lambda m: isinstance(m, TtsDone))
        elapsed = loop.time() - t0
    audio = [m for m in got if isinstance(m, TtsAudio)]
    done = got[-1]
    assert isinstance(done, TtsDone) and done.turn == turn and done.status == "complete"
    assert [m.seq for m in audio] == list(range(len(audio)))
    total_ms = sum(len(m.data) / 2 / m.sample_rate * 1000 for m in audio)
    assert total_ms > 1500
    # real-time pacing: no more than the lead ahead of the wall clock
    assert elapsed >= (total_ms - 300) / 1000 - 0.15
    assert audio[0].text.startswith("One")


async def test_instant_credits_send_as_fast_as_synthesized(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_audio_lead_ms=300)
    async with connect(url(srv), credits="instant") as s:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await s.say("One two three four five six seven eight nine ten. Eleven twelve thirteen.")
        await collect(s, lambda m: isinstance(m, TtsDone))
        assert loop.time() - t0 < 1.5  # about 4 s of audio


async def test_cancel_stops_the_turn_and_nothing_follows_done(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_audio_lead_ms=200)
    async with connect(url(srv)) as s:
        turn = await s.say("A long sentence that keeps going and going for quite a while. " * 3)
        first = await collect(s, lambda m: isinstance(m, TtsAudio))
        assert isinstance(first[-1], TtsAudio)
        await s.cancel(turn)
        got = await collect(s, lambda m: isinstance(m, TtsDone))
        assert got[-1].status == "cancelled"  # type: ignore[union-attr]
        assert len([m for m in got if isinstance(m, TtsAudio)]) <= 4  # at most what was in flight
        await s.ping(7)
        after = await collect(s, lambda m: isinstance(m, Pong), timeout=3)
        assert not any(isinstance(m, TtsAudio) for m in after)
        # a new turn works after barge-in
        turn2 = await s.say("Next.")
        got2 = await collect(s, lambda m: isinstance(m, TtsDone))
        assert got2[-1].turn == turn2 and got2[-1].status == "complete"  # type: ignore[union-attr]


async def test_bad_messages_give_errors_and_the_session_lives(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    async with connect(url(srv)) as other, connect(url(srv)) as s:
        await s.send_raw(msgpack.packb({"type": "no_such_type"}))
        await s.send_raw(msgpack.packb({"type": "audio", "seq": "x", "data": b""}))
        await s.send_raw(msgpack.packb({"type": "audio", "seq": 0, "data": b"\x00"}))  # half a sample
        await s.ping(1)
        got = await collect(s, lambda m: isinstance(m, Pong), timeout=3)
        codes = [m.code for m in got if isinstance(m, ErrorMessage)]
        assert codes == ["unknown_type", "invalid_field", "invalid_field"]
        assert all(not m.fatal for m in got if isinstance(m, ErrorMessage))
        # garbage kills only its own session
        await s.send_raw(b"\xc1\xc1garbage")
        with pytest.raises(ServerClosed) as info:
            await collect(s, lambda m: False, timeout=3)
        assert info.value.code == 1002
        await other.ping(2)
        assert isinstance((await collect(other, lambda m: isinstance(m, Pong), timeout=3))[-1], Pong)


async def test_admission_refuses_with_1013_when_full(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_sessions=1)
    async with connect(url(srv)) as s:
        with pytest.raises(ServerClosed) as info:
            await connect(url(srv))
        assert info.value.code == 1013
        assert len(srv.sessions) == 1
        await s.ping(1)
        await collect(s, lambda m: isinstance(m, Pong), timeout=3)
    await asyncio.sleep(0.1)
    async with connect(url(srv)) as s2:  # the slot is free again
        assert s2.session_id


async def test_token_in_hello_or_header(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(token="s3cret")
    with pytest.raises(ServerClosed, match="unauthorized"):
        await connect(url(srv), token="wrong")
    async with connect(url(srv), token="s3cret") as s:
        assert s.session_id
    async with connect(url(srv), token="s3cret", token_in_header=True) as s:
        assert s.session_id
    with pytest.raises(Exception, match="401"):
        await connect(url(srv), token="wrong", token_in_header=True)


async def test_foreign_origin_is_refused(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    with pytest.raises(Exception, match="403"):
        async with ws_connect(url(srv), origin="http://evil.example"):  # type: ignore[arg-type]
            pass


async def test_abrupt_disconnect_mid_utterance_frees_everything(start_server) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine(asr_delay_s=0.05)
    srv = await start_server(engine=engine)
    s = await connect(url(srv))
    audio = speechlike(2.0)
    for i in range(0, len(audio), 320):
        await s.send_audio(audio[i : i + 320])
    await s.say("Some words to speak now.")
    s.ws.transport.abort()  # no close frame
    for _ in range(50):
        if not srv.sessions:
            break
        await asyncio.sleep(0.05)
    assert srv.sessions == {}
    tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith(("reader-", "writer-", "asr-", "tts-"))]
    assert tasks == []


async def test_client_that_never_reads_is_closed_and_others_are_fine(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(slow_client_timeout_s=1.0, max_audio_lead_ms=100_000)
    srv.slow_consumer_linger_s = 0.5  # it never reads again: dropped soon after its 4008 is queued
    engine_rate = 24000
    # a raw socket client that says hello, asks for lots of audio, and never reads again
    raw = socket.create_connection(("127.0.0.1", srv.port))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    raw.sendall(
        f"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )

    def frame(payload: bytes) -> bytes:
        mask = b"\x01\x02\x03\x04"
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        head = bytes([0x82, 0x80 | n]) if n < 126 else bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
        return head + mask + body

    raw.sendall(frame(msgpack.packb({"type": "hello", "tts": {"sample_rate": engine_rate}})))
    for turn in range(1, 6):
        raw.sendall(frame(msgpack.packb({"type": "text", "text": "word " * 300, "final": True, "turn": turn})))
    await asyncio.sleep(0.2)
    assert len(srv.sessions) == 1
    async with connect(url(srv)) as s:
        for _ in range(30):
            await s.ping(1)
            await collect(s, lambda m: isinstance(m, Pong), timeout=2)
            if not srv.sessions or len(srv.sessions) == 1:
                break
            await asyncio.sleep(0.1)
        for _ in range(100):
            if len(srv.sessions) == 1:
                break
            await asyncio.sleep(0.1)
        assert len(srv.sessions) == 1  # the slow one is gone, ours lives
        await s.ping(3)
        await collect(s, lambda m: isinstance(m, Pong), timeout=2)
    assert srv.metrics.value("streamvoice_errors_total", code="slow_consumer") >= 1
    raw.close()


async def test_stop_flushes_finals_and_closes_1001(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=FakeEngine(asr_delay_s=0.02))
    s = await connect(url(srv))
    audio = speechlike(2.0)
    for i in range(0, len(audio), 320):  # speech still open: no silence, no audio_end
        await s.send_audio(audio[i : i + 320])
    await asyncio.sleep(0.1)
    stopper = asyncio.create_task(srv.stop(5.0))
    got = []
    with pytest.raises(ServerClosed) as info:
        while True:
            got.append(await s.recv(timeout=5))
    await stopper
    assert info.value.code == 1001
    assert any(isinstance(m, Final) for m in got)
    assert got[-1].type == "bye"
    await srv.stop(1.0)  # idempotent


async def test_degradation_is_announced_when_asr_falls_behind(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=FakeEngine(asr_delay_s=0.6), max_asr_lag_ms=1000)
    async with connect(url(srv)) as s:
        audio = speechlike(6.0)
        for i in range(0, len(audio), 320):
            await s.send_audio(audio[i : i + 320])
            await asyncio.sleep(0.02 / 4)  # 4x real time
        got = await collect(s, lambda m: isinstance(m, ServerFlow) and m.dropped_ms > 0, timeout=10)
    levels = [m.level for m in got if isinstance(m, ServerFlow)]
    assert levels[0] == 1 and 3 in levels
    assert srv.metrics.value("streamvoice_dropped_total", what="input_audio_ms") > 0
    assert not any(isinstance(m, Partial) for m in got[got.index(next(m for m in got if isinstance(m, ServerFlow)
                                                                        and m.level == 2)) + 1:])


async def test_dropped_audio_is_reported_at_most_once_a_second_and_every_millisecond_counted(  # type: ignore[no-untyped-def]
    start_server,
) -> None:
    srv = await start_server(engine=FakeEngine(asr_delay_s=0.6), max_asr_lag_ms=1000)
    async with connect(url(srv)) as s:
        audio = speechlike(8.0)
        for i in range(0, len(audio), 320):
            await s.send_audio(audio[i : i + 320])
            await asyncio.sleep(0.02 / 4)  # 4x real time: drops on most chunks at level 3
        await s.end_audio()
        flows, arrived = [], []
        async with asyncio.timeout(20):
            while not flows or flows[-1].level > 0 or srv.metrics.value(
                    "streamvoice_dropped_total", what="input_audio_ms") > sum(m.dropped_ms for m in flows) + 5:
                msg = await s.recv()
                if isinstance(msg, ServerFlow):
                    flows.append(msg)
                    arrived.append(asyncio.get_running_loop().time())
    dropped = srv.metrics.value("streamvoice_dropped_total", what="input_audio_ms")
    assert dropped > 1000
    assert sum(m.dropped_ms for m in flows) == pytest.approx(dropped, abs=5)  # one ms of rounding per report
    changes = sum(1 for a, b in itertools.pairwise(flows) if a.level != b.level) + 1
    span = arrived[-1] - arrived[0]
    assert len(flows) <= changes + span + 2  # it had sent one per 20 ms chunk: ~100 here


async def test_turns_past_the_queue_bound_are_refused_not_queued(start_server) -> None:  # type: ignore[no-untyped-def]
    from streamvoice.runtime.tts_pipeline import MAX_QUEUED_TURNS

    srv = await start_server(max_audio_lead_ms=200)  # turn 1 plays slowly, the rest wait
    async with connect(url(srv)) as s:
        turns = [await s.say("A sentence that takes a while to speak out loud.") for _ in range(MAX_QUEUED_TURNS + 1)]
        refused = turns[-1]
        got = await collect(s, lambda m: isinstance(m, TtsDone) and m.turn == refused, timeout=5)
        errors = [m for m in got if isinstance(m, ErrorMessage)]
        assert [e.code for e in errors] == ["rate_limited"]
        assert errors[0].ref is not None and errors[0].ref.seq == refused and not errors[0].fatal
        assert got[-1].status == "error"  # type: ignore[union-attr]
        assert not any(isinstance(m, TtsAudio) and m.turn == refused for m in got)
        await s.cancel(None)  # the queued turns end cancelled; the session lives on
        await s.ping(3)
        after = await collect(s, lambda m: isinstance(m, Pong), timeout=5)
        assert {m.turn for m in after if isinstance(m, TtsDone)} <= set(turns[:-1])


async def test_voices_endpoint_lists_what_sessions_may_choose(start_server) -> None:  # type: ignore[no-untyped-def]
    import json

    engine = FakeEngine(voices=frozenset({"af_heart", "am_adam"}), asr_models=frozenset({"whisper-base"}))
    srv = await start_server(engine=engine)
    loop = asyncio.get_running_loop()
    status, body = await loop.run_in_executor(None, http_get, srv.port, "/v1/voices")
    offer = json.loads(body)
    assert status == 200 and offer["voices"] == ["af_heart", "am_adam"] and offer["asr_models"] == ["whisper-base"]
    assert offer["default_voice"] == "af_heart"
