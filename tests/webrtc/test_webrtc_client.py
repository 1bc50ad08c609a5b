"""streamvoice.client.webrtc against a real server with the fake engine: the call's set-up, events,
audio in on the microphone track, the speech track out as frames, refused offers."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from streamvoice.client.rtc_audio import MicTrack, TrackFrame
from streamvoice.client.rtc_peer import offer_url
from streamvoice.client.webrtc import OfferRefused, RtcSession, connect
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol import Final, TtsDone, TtsText
from tests.webrtc.rtc_client import needs_interface

SILENT = 0.003  # the fake voice is a 0.1-amplitude tone (RMS ~0.07)


def test_offer_url_accepts_the_http_base_and_the_stream_url() -> None:
    assert offer_url("http://h:1") == "http://h:1/v1/webrtc/offer"
    assert offer_url("ws://h:1/v1/stream") == "http://h:1/v1/webrtc/offer"
    assert offer_url("wss://h/voice/v1/stream") == "https://h/voice/v1/webrtc/offer"
    assert offer_url("https://h/proxy/offer?x=1") == "https://h/proxy/offer?x=1"
    with pytest.raises(ValueError):
        offer_url("ftp://h/")


async def test_mic_track_resamples_to_48k_paces_and_pads_with_silence() -> None:
    sent: list[tuple[int, float]] = []
    mic = MicTrack(on_frame=lambda pos, at: sent.append((pos, at)))
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(1600) / 16000)  # 100 ms at 16 kHz
    mic.feed(tone.astype(np.float32), 16000)
    assert 4000 < mic.fed_samples < 4800 and not mic.done  # the resampler holds back a few ms ...
    mic.flush()
    assert mic.fed_samples == pytest.approx(4800, abs=8)  # ... until flushed
    frames = [await mic.recv() for _ in range(8)]
    levels = [float(np.sqrt(np.mean((f.to_ndarray().astype(np.float32) / 32768) ** 2))) for f in frames]
    assert [f.pts for f in frames] == [i * 960 for i in range(8)] and all(f.sample_rate == 48000 for f in frames)
    assert min(levels[1:4]) > 0.3 and max(levels[6:]) == 0.0, levels  # the tone, then silence
    assert mic.done and [p for p, _ in sent] == [(i + 1) * 960 for i in range(8)]
    assert sent[-1][1] - sent[0][1] == pytest.approx(0.14, abs=0.06), "paced at 20 ms a frame"
    mic.stop()


@needs_interface
async def test_a_call_through_the_client(start_server, data_dir) -> None:  # type: ignore[no-untyped-def]
    from streamvoice.audio.wavio import read_audio

    srv = await start_server(engine=FakeEngine(ms_per_char=40.0))
    async with connect(f"http://127.0.0.1:{srv.port}") as call:
        assert isinstance(call, RtcSession) and call.session_id in srv.sessions
        assert call.ready.output_audio.sample_rate == 48000
        assert 0 < call.timings["setup_s"] <= call.timings["ready_s"] < 10, call.timings
        frames: list[TrackFrame] = []

        async def read() -> None:
            async for frame in call.audio.frames():
                frames.append(frame)

        reader = asyncio.create_task(read())
        text = "Hello there. This is spoken on the track."
        sent = time.monotonic()
        turn = await call.say(text)
        captions: list[TtsText] = []
        async for event in call:
            if isinstance(event, TtsText):
                captions.append(event)
            if isinstance(event, TtsDone):
                assert event.turn == turn and event.status == "complete"
                break
        await asyncio.sleep(0.2)
        loud = [f for f in frames if f.at >= sent and f.rms > SILENT]
        assert len(loud) * 20 >= 0.85 * event.duration_ms, (len(loud), event.duration_ms)
        assert " ".join(c.text for c in captions if c.text).split() == text.split()
        assert abs(captions[0].track_ms - loud[0].track_ms) <= 60, (captions[0].track_ms, loud[0].track_ms)

        # the microphone: a clip fed at 16 kHz goes out on the track at real time and is heard
        audio = read_audio(data_dir / "LJ001-0004.wav")
        samples = audio[0] if isinstance(audio, tuple) else audio
        await call.send_audio(np.asarray(samples, np.float32)[: 16000 * 2])
        assert isinstance(call.mic, MicTrack) and call.mic.queued_s > 1.5
        await call.end_audio()  # waits until the clip has gone out on the track
        assert call.mic.done
        kinds = []
        async with asyncio.timeout(10):
            async for event in call:
                kinds.append(event.type)
                if isinstance(event, Final):
                    break
        assert "speech" in kinds and isinstance(event, Final) and event.text, kinds
        reader.cancel()
    async with asyncio.timeout(10):  # close: bye, then the peer goes; the server's session ends
        while srv.sessions:
            await asyncio.sleep(0.05)


@needs_interface
async def test_refused_offers_raise_with_the_status_and_code(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(token="s3cret", engine=FakeEngine(voices=frozenset({"af_heart"})))
    url = f"http://127.0.0.1:{srv.port}"
    with pytest.raises(OfferRefused) as refused:
        await connect(url, token="wrong")
    assert (refused.value.status, refused.value.error_code) == (401, "unauthorized")
    from streamvoice.protocol import TtsOptions

    with pytest.raises(OfferRefused) as refused:
        await connect(url, token="s3cret", tts=TtsOptions(voice="nobody"))
    assert (refused.value.status, refused.value.error_code) == (400, "unknown_voice")
    call = await connect(url, token="s3cret", token_in_header=True)
    try:
        await call.ping(5)
        pong = await call.recv(timeout=5)
        assert pong.type == "pong"
    finally:
        await call.close()


async def test_unread_messages_are_bounded_oldest_dropped_end_kept() -> None:
    from streamvoice.client.rtc_peer import MAX_UNREAD_MESSAGES, RtcPeer
    from streamvoice.protocol import Pong, encode

    peer = RtcPeer()
    try:
        for i in range(MAX_UNREAD_MESSAGES + 5):
            peer._on_message(encode(Pong(id=i)))
        peer._end("closed")
        assert peer.messages.qsize() == MAX_UNREAD_MESSAGES and peer.messages_dropped == 6
        first = peer.messages.get_nowait()
        assert isinstance(first, Pong) and first.id == 6  # the oldest went first
        last = first
        while (item := peer.messages.get_nowait()) is not None:
            last = item
        assert isinstance(last, Pong) and last.id == MAX_UNREAD_MESSAGES + 4  # the newest kept, then the end
    finally:
        await peer.pc.close()
