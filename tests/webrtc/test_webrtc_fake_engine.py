"""WebRTC calls against a real server with the fake engine: signalling, data channel, the speech track."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import numpy as np
import pytest

from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import Cancel, Ping, Text, TtsDone, TtsText
from tests.webrtc.rtc_client import RtcClient, needs_interface, post

pytestmark = needs_interface
SILENT = 0.003  # frame RMS below this is silence (the fake voice is a 0.1-amplitude tone: RMS ~0.07)


async def open_call(srv, hello=None, headers=None, mic=None) -> RtcClient:  # type: ignore[no-untyped-def]
    client = RtcClient(mic)
    status, body = await client.connect(srv.port, hello, headers)
    assert status == 200, body
    await asyncio.wait_for(client.opened.wait(), 10)
    return client


def loud(client: RtcClient, since: float) -> list[float]:
    return [h.at for h in client.heard if h.at >= since and h.rms > SILENT]


async def test_offer_answer_ready_and_a_text_is_spoken_on_the_track(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=FakeEngine(ms_per_char=40.0))
    client = await open_call(srv, hello={"tts": {"voice": "af_heart"}})
    try:
        ready = await client.next("ready")
        assert ready.session == client.session and client.session in srv.sessions
        assert ready.output_audio.sample_rate == 48000 and ready.output_audio.encoding == "pcm_s16le"
        await asyncio.sleep(0.3)
        assert client.heard, "the server's track sends frames (silence) while idle"
        assert max(h.rms for h in client.heard) < SILENT, "nothing is said before a text"

        text = "Hello there. This sentence is spoken on the audio track of the call."
        sent = time.monotonic()
        client.send(Text(text=text, final=True))
        captions: list[TtsText] = []
        while True:
            message = await client.next_any(("tts_text", "tts_done"), timeout=15)
            if isinstance(message, TtsDone):
                done = message
                loud_at_done = len(loud(client, sent))
                break
            captions.append(message)
        assert done.status == "complete" and done.turn == 1
        # tts_done left with the turn's last sample, not when synthesis ended (1.5 s of lead earlier)
        assert loud_at_done >= 0.85 * done.duration_ms / 20, (loud_at_done, done.duration_ms)
        await asyncio.sleep(0.2)
        spoken = loud(client, sent)
        assert spoken, "the text gave audio on the track"
        first_audio = spoken[0] - sent
        duration = spoken[-1] - spoken[0]
        expected = done.duration_ms / 1000
        frames = len(spoken)
        # the turn's 20 ms frames arrived back to back in track time (RTP timestamps); the receiving peer may
        # drop a few when this loaded machine stalls its decoder, the server sends them all (below)
        assert expected / 0.02 * 0.9 <= frames <= expected / 0.02 + 3, (frames, expected)
        call = srv.sessions[client.session]
        assert abs(call.track.audio_frames - expected / 0.02) <= 2, (call.track.audio_frames, expected)
        loud_pts = [h.pts for h in client.heard if h.at >= sent and h.rms > SILENT]
        assert (loud_pts[-1] - loud_pts[0]) / 48000 == pytest.approx(expected, abs=0.08)
        # paced at real time, not sent in a burst: arriving took about as long as the audio lasts (the upper
        # bound allows for this shared machine's stalls; the track re-anchors its clock instead of bursting)
        assert expected * 0.85 <= duration <= expected * 2.5 + 0.5, (duration, expected)
        assert first_audio < 1.5, first_audio
        # captions: the chunk's text and word timings in track time, sent as the chunk starts playing
        assert captions and captions[0].text.startswith("Hello") and captions[0].offset_ms == 0
        assert " ".join(c.text for c in captions if c.text).split() == text.split()
        words = [w for c in captions for w in (c.words or [])]
        assert [w.word for w in words] == text.split()
        assert all(a.start_ms <= b.start_ms for a, b in itertools.pairwise(words))
        first_pts_ms = next(h.pts for h in client.heard if h.rms > SILENT) / 48
        assert abs(captions[0].track_ms - first_pts_ms) <= 60, (captions[0].track_ms, first_pts_ms)
        print(f"first audio on the track {first_audio * 1000:.0f} ms after the text; "
              f"{frames} frames over {duration:.2f} s for {expected:.2f} s of speech")
    finally:
        await client.close()


async def test_cancel_silences_the_track_within_a_frame(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=FakeEngine(ms_per_char=60.0))
    client = await open_call(srv)
    try:
        await client.next("ready")
        call = srv.sessions[client.session]
        at_cancel: list[tuple[float, int, int]] = []  # (time, track position, speech frames sent) when handled
        silence = call._silence

        def spy(turn: int | None) -> int:
            at_cancel.append((time.monotonic(), call.track.position, call.track.audio_frames))
            return silence(turn)

        call._silence = spy
        client.send(Text(text="A long answer that goes on and on. " * 6, final=True))
        async with asyncio.timeout(10):
            while len([h for h in client.heard if h.rms > SILENT]) < 25:  # half a second of it heard
                await asyncio.sleep(0.02)
        sent_at = time.monotonic()
        client.send(Cancel())
        done = await client.next("tts_done", timeout=5)
        assert done.status == "cancelled" and done.played_ms is not None and done.played_ms >= 500
        await asyncio.sleep(0.5)
        handled_at, position, frames = at_cancel[0]
        # the server's track: not one frame of speech after the cancel was handled ...
        assert call.track.audio_frames == frames
        # ... and the client's decoded track agrees, in track time (RTP timestamps): at most the frame in flight
        late = [h.pts - position for h in client.heard if h.rms > SILENT and h.pts > position]
        assert late == [] or max(late) <= 960, late
        assert any(h.pts > position + 960 * 10 for h in client.heard), "the track goes on (silence)"
        wall = [h.at - handled_at for h in client.heard if h.rms > SILENT and h.at > handled_at]
        print(f"cancel handled {(handled_at - sent_at) * 1000:.0f} ms after it was sent; speech frames after it on "
              f"the track: {len(late)}; last one decoded {max(wall, default=0) * 1000:.0f} ms later (wall clock)")
    finally:
        await client.close()


async def test_ping_on_the_data_channel_and_audio_there_is_refused(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    client = await open_call(srv)
    try:
        await client.next("ready")
        client.send(Ping(id=7))
        assert (await client.next("pong")).id == 7
        assert client.channel is not None
        client.channel.send(b"\x81\xa4type\xa5audio")  # {"type": "audio"}: no seq, no data
        error = await client.next("error")
        assert error.code == "invalid_field" and not error.fatal
        client.channel.send(bytes.fromhex("83a474797065a5617564696fa3736571" "00a464617461c40400000000"))
        error = await client.next("error")
        assert error.code == "unknown_type" and "track" in error.message
    finally:
        await client.close()


def _offer_json(sdp: str, hello: object = None) -> bytes:
    body: dict[str, object] = {"type": "offer", "sdp": sdp}
    if hello is not None:
        body["hello"] = hello
    return json.dumps(body).encode()


async def _sdp(audio: bool, channel: bool) -> str:
    client = RtcClient(audio=audio, channel=channel)
    try:
        return await client.offer()
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("not_json", 400, "bad_offer"),
        ("empty", 400, "bad_offer"),
        ("no_sdp", 400, "bad_offer"),
        ("garbage_sdp", 400, "bad_offer"),
        ("no_audio", 400, "no_audio"),
        ("no_channel", 400, "no_data_channel"),
        ("bad_hello_field", 400, "invalid_field"),
        ("hello_not_object", 400, "invalid_field"),
        ("unknown_version", 400, "unsupported_version"),
        ("unknown_voice", 400, "unknown_voice"),
    ],
)
async def test_bad_offers_get_a_json_error(start_server, case: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=FakeEngine(voices=frozenset({"af_heart"})))
    good = await _sdp(audio=True, channel=True)
    body = {
        "not_json": b"{offer",
        "empty": b"",
        "no_sdp": json.dumps({"type": "offer"}).encode(),
        "garbage_sdp": _offer_json("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=application 9 UDP/DTLS/SCTP "
                                   "webrtc-datachannel\r\n"),
        "no_audio": _offer_json(await _sdp(audio=False, channel=True)),
        "no_channel": _offer_json(await _sdp(audio=True, channel=False)),
        "bad_hello_field": _offer_json(good, {"asr": {"vad_aggressiveness": 9}}),
        "hello_not_object": _offer_json(good, [1]),
        "unknown_version": _offer_json(good, {"versions": [7]}),
        "unknown_voice": _offer_json(good, {"tts": {"voice": "nobody"}}),
    }[case]
    got, answer = await post(srv.port, "/v1/webrtc/offer", body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message"]
    assert not srv.sessions, "a refused offer leaves no session"


async def test_get_is_not_an_offer(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    status, answer = await post(srv.port, "/v1/webrtc/offer", b"", method="GET")
    assert status == 405 and answer["error"]["code"] == "bad_offer"


async def test_token_rules_match_the_websocket(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(token="s3cret")
    refused = RtcClient()
    try:
        status, answer = await refused.connect(srv.port)
        assert (status, answer["error"]["code"]) == (401, "unauthorized")
        status, answer = await refused.connect(srv.port, hello={"token": "wrong"})
        assert (status, answer["error"]["code"]) == (401, "unauthorized")
        status, answer = await refused.connect(srv.port, headers={"Authorization": "Bearer wrong"})
        assert (status, answer["error"]["code"]) == (401, "unauthorized")
    finally:
        await refused.close()
    for hello, headers in (({"token": "s3cret"}, None), (None, {"Authorization": "Bearer s3cret"})):
        client = await open_call(srv, hello=hello, headers=headers)
        try:
            await client.next("ready")
        finally:
            await client.close()


async def test_a_full_server_answers_503_and_a_closed_peer_frees_the_slot(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(max_sessions=1)
    first = await open_call(srv)
    await first.next("ready")
    second = RtcClient()
    try:
        status, answer = await second.connect(srv.port)
        assert (status, answer["error"]["code"]) == (503, "server_busy")
    finally:
        await second.close()
    await first.close()  # the peer goes: the session ends like a closed socket
    async with asyncio.timeout(10):
        while srv.sessions:
            await asyncio.sleep(0.05)
    third = await open_call(srv)
    try:
        await third.next("ready")
    finally:
        await third.close()


async def test_server_stop_says_bye_on_the_channel(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    client = await open_call(srv)
    try:
        await client.next("ready")
        await srv.stop(5.0)
        bye = await client.next("bye", timeout=5)
        assert bye.reason
        assert not srv.sessions
    finally:
        await client.close()


async def test_bye_ends_the_call(start_server) -> None:  # type: ignore[no-untyped-def]
    from streamvoice.protocol.messages import Bye

    srv = await start_server()
    client = await open_call(srv)
    try:
        await client.next("ready")
        client.send(Bye())
        assert (await client.next("bye")).reason == "bye"
        async with asyncio.timeout(10):
            while srv.sessions:
                await asyncio.sleep(0.05)
    finally:
        await client.close()


def test_silence_threshold_is_below_the_fake_voice() -> None:
    t = np.arange(960) / 48000
    assert np.sqrt(np.mean((0.1 * np.sin(2 * np.pi * 220 * t)) ** 2)) > 10 * SILENT


async def test_a_call_whose_streamvoice_channel_never_opens_is_dropped(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(hello_timeout_s=1.5)
    client = RtcClient(label="chat")  # connects, but not with the protocol's channel
    try:
        status, _ = await client.connect(srv.port)
        assert status == 200 and client.session in srv.sessions
        async with asyncio.timeout(10):
            while srv.sessions:
                await asyncio.sleep(0.05)
        got = []
        while not client.messages.empty():
            got.append(client.messages.get_nowait())
        assert all(m is None for m in got), f"nothing of the protocol on a channel with another label: {got}"
    finally:
        await client.close()


async def test_an_oversized_offer_is_refused_unread(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    status, _ = await post(srv.port, "/v1/webrtc/offer", b"{" + b" " * 70_000 + b"}")
    assert status == 413
    assert not srv.sessions


async def test_server_barge_in_cuts_the_speech_on_the_track(start_server, data_dir) -> None:  # type: ignore[no-untyped-def]
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from tests.webrtc.rtc_client import ClipTrack

    audio = read_audio(data_dir / "LJ001-0004.wav")
    speech, rate = (audio[0], audio[1]) if isinstance(audio, tuple) else (audio, 16000)
    voice = resample(np.asarray(speech, np.float32), int(rate), 48000)
    mic = ClipTrack(np.concatenate([np.zeros(48000 * 2, np.float32), voice]))  # the user speaks after 2 s
    # the whole reply (~6.6 s) is synthesized and queued on the track at once: cutting it is the track's
    # job; the user starts ~2 s in, so even a barge-in slowed by a loaded machine leaves seconds unplayed
    srv = await start_server(engine=FakeEngine(ms_per_char=60.0), vad_barge_in=True, max_audio_lead_ms=8000)
    client = await open_call(srv, mic=mic)
    try:
        await client.next("ready")
        call = srv.sessions[client.session]
        client.send(Text(text="An answer that the user will interrupt, before its end. " * 2, final=True))
        start = await client.next("speech", timeout=10)
        assert start.event == "start"
        frames = call.track.audio_frames
        done = await client.next("tts_done", timeout=5)
        assert done.status == "cancelled"
        await asyncio.sleep(0.5)
        assert call.track.audio_frames - frames <= 1, "speech went on after the user started speaking"
        assert 1500 <= (done.played_ms or 0) < done.duration_ms - 300, done
    finally:
        await client.close()


async def test_server_stop_flushes_the_final_of_an_open_utterance_before_bye(start_server, data_dir) -> None:  # type: ignore[no-untyped-def]
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from tests.webrtc.rtc_client import ClipTrack

    audio = read_audio(data_dir / "LJ001-0004.wav")
    speech, rate = (audio[0], audio[1]) if isinstance(audio, tuple) else (audio, 16000)
    mic = ClipTrack(resample(np.asarray(speech, np.float32), int(rate), 48000))
    srv = await start_server()
    client = await open_call(srv, mic=mic)
    try:
        await client.next("ready")
        start = await client.next("speech", timeout=10)
        assert start.event == "start"
        await asyncio.sleep(1.0)  # mid-utterance: the clip lasts 5 s
        assert not mic.done
        await srv.stop(5.0)
        seen = []
        async with asyncio.timeout(5):
            while not seen or seen[-1].type != "bye":
                seen.append(await client.messages.get())
        finals = [m for m in seen if m.type == "final"]
        assert finals and finals[0].utterance == start.utterance and finals[0].text, seen
        assert not srv.sessions
    finally:
        await client.close()


async def test_an_offer_sent_after_100_continue_is_answered(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(hello_timeout_s=2.0)
    body = _offer_json(await _sdp(audio=True, channel=True))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    try:
        writer.write(f"POST /v1/webrtc/offer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        await writer.drain()
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        raw = await asyncio.wait_for(reader.read(), 15)
    finally:
        writer.close()
    assert raw.startswith(b"HTTP/1.1 200 ") and b'"type": "answer"' in raw
    async with asyncio.timeout(15):  # the peer never connects: the call is dropped after the hello timeout
        while srv.sessions:
            await asyncio.sleep(0.1)
