"""The speech track's queue, pacing and markers, and the offer checks, without a network."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest

from streamvoice.webrtc.offer import OfferError, parse_offer, webrtc_hello
from streamvoice.webrtc.speech_track import FRAME, Chunk, Marker, SpeechTrack

SDP_OK = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n")


def samples(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    return frame.to_ndarray().reshape(-1)


async def test_frames_are_20_ms_silence_when_idle_and_paced_at_real_time() -> None:
    track = SpeechTrack(max_queued_ms=1000)
    started = time.monotonic()
    frames = [await track.recv() for _ in range(11)]
    elapsed = time.monotonic() - started
    assert all(f.samples == FRAME and f.sample_rate == 48000 for f in frames)
    assert [f.pts for f in frames] == [i * FRAME for i in range(11)]
    assert not any(samples(f).any() for f in frames)
    assert 0.18 <= elapsed < 0.6, elapsed  # ten frame periods after the first


async def test_chunks_play_in_order_with_their_caption_and_end_marker() -> None:
    played: list[tuple[int, float]] = []
    track = SpeechTrack(max_queued_ms=1000, on_played=lambda turn, ms: played.append((turn, ms)))
    starts: list[int] = []
    ended: list[str] = []
    await track.recv()  # the clock starts; frame 0 is silent
    await track.put(Chunk(1, np.full(2000, 1000, np.int16), 0.0, on_start=starts.append))
    track.mark(Marker(1, lambda: ended.append("done"), lambda: ended.append("cut")))
    a, b, c = [samples(await track.recv()) for _ in range(3)]
    assert starts == [20]  # track time of its first sample: the second frame
    assert (a == 1000).all() and (b == 1000).all()
    assert (c[:80] == 1000).all() and not c[80:].any()
    assert ended == ["done"]  # fired with the frame holding the last sample
    assert played[-1] == (1, pytest.approx(2000 / 48))
    assert track.audio_frames == 3


async def test_purge_silences_the_next_frame_and_hands_back_the_end_marker() -> None:
    track = SpeechTrack(max_queued_ms=5000)
    await track.recv()
    await track.put(Chunk(1, np.full(48000, 500, np.int16), 0.0))
    track.mark(Marker(1, lambda: pytest.fail("a cut turn's marker must not fire"), lambda: None))
    await track.put(Chunk(2, np.full(960, 700, np.int16), 0.0))
    assert samples(await track.recv()).any()
    dropped, markers = track.purge(1)
    assert dropped == 1 and len(markers) == 1
    assert (samples(await track.recv()) == 700).all()  # turn 2 was not cancelled
    assert not samples(await track.recv()).any()
    assert track.purge(None) == (0, [])


async def test_put_waits_while_the_queue_is_full() -> None:
    track = SpeechTrack(max_queued_ms=100)
    await track.recv()
    await track.put(Chunk(1, np.ones(4800, np.int16), 0.0))  # 100 ms: the first always goes
    second = asyncio.ensure_future(track.put(Chunk(1, np.ones(960, np.int16), 100.0)))
    await asyncio.sleep(0.05)
    assert not second.done() and track.queued_ms == 100
    await track.recv()  # 20 ms played: room for the next 20 ms
    await asyncio.wait_for(second, 1)
    assert track.queued_ms == pytest.approx(100)


def test_offer_checks() -> None:
    ok = parse_offer(json.dumps({"type": "offer", "sdp": SDP_OK, "hello": {"asr": {"language": "en"}}}).encode())
    assert ok.hello == {"asr": {"language": "en"}}
    cases = {
        b"": "bad_offer",
        b"[]": "bad_offer",
        json.dumps({"type": "answer", "sdp": SDP_OK}).encode(): "bad_offer",
        json.dumps({"type": "offer", "sdp": SDP_OK.replace("a=sendrecv", "a=recvonly")}).encode(): "no_audio",
        json.dumps({"type": "offer", "sdp": SDP_OK + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}).encode(): "bad_offer",
        json.dumps({"type": "offer", "sdp": SDP_OK.split("m=application")[0]}).encode(): "no_data_channel",
        json.dumps({"type": "offer", "sdp": SDP_OK, "hello": "x"}).encode(): "invalid_field",
        b"x" * 70000: "bad_offer",
    }
    for body, code in cases.items():
        with pytest.raises(OfferError) as info:
            parse_offer(body)
        assert info.value.code == code, body[:60]
        assert 400 <= info.value.status < 500


def test_the_tracks_fix_the_formats_of_the_hello() -> None:
    hello = webrtc_hello({"tts": {"voice": "am_adam", "sample_rate": 8000, "encoding": "pcm_f32le"},
                          "audio": {"sample_rate": 44100, "channels": 2}})
    assert hello["type"] == "hello"
    assert hello["tts"] == {"voice": "am_adam", "sample_rate": 48000, "encoding": "pcm_s16le"}
    assert hello["audio"] == {"encoding": "pcm_s16le", "sample_rate": 16000, "channels": 1}
