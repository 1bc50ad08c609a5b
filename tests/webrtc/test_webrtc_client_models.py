"""Barge-in on a call with the real models (marked `models`), through streamvoice.client.webrtc:
``cancel`` mid-turn silences the speech track within 60 ms of track time, and the audio queued on
the track is dropped, not played later."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from streamvoice.client.rtc_audio import TrackFrame
from streamvoice.client.webrtc import connect
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import TtsDone, TtsText
from tests.server.test_server_models import models_config
from tests.webrtc.rtc_client import needs_interface

pytestmark = [pytest.mark.models, needs_interface]
SILENT = 0.003  # frame RMS; Kokoro's speech on the track is ~0.05-0.1, the idle track decodes to ~0
LIMIT_MS = 60  # PROTOCOL §13.4: one 20 ms frame, plus margin for the frame in flight


@pytest.fixture(scope="module")
def engine(models_dir: Path):  # type: ignore[no-untyped-def]
    eng = load_engine(models_config(models_dir))
    yield eng
    eng.close()


async def test_cancel_mid_turn_silences_the_track_within_60_ms(start_server, engine, models_dir) -> None:  # type: ignore[no-untyped-def]
    # a lead of 3 s: when the cancel comes, seconds of synthesized speech wait on the track
    srv = await start_server(engine=engine, config=models_config(models_dir, max_audio_lead_ms=3000))
    if not engine.tts_ready:  # known once the server has started the engine
        pytest.skip("TTS model not loadable here")
    heard: list[TrackFrame] = []
    async with connect(f"http://127.0.0.1:{srv.port}", open_timeout=20) as call:
        call.audio.listeners.append(heard.append)
        server_call = srv.sessions[call.session_id]
        at_cancel: list[tuple[int, float, int]] = []  # track position, queued ms, speech frames sent
        silence = server_call._silence

        def spy(turn: int | None) -> int:
            track = server_call.track
            at_cancel.append((track.position, track.queued_ms, track.audio_frames))
            return silence(turn)

        server_call._silence = spy
        sent = time.monotonic()
        turn = await call.say("The quick brown fox jumps over the lazy dog, and then it runs far away into "
                              "the green forest. It was a sunny day, and every bird was singing in the trees.")
        first: TtsText = await _next(call, TtsText, 90)
        async with asyncio.timeout(30):  # 0.6 s of the reply heard at the client
            while sum(1 for f in heard if f.at >= sent and f.rms > SILENT) < 30:
                await asyncio.sleep(0.02)
        await call.cancel(turn)
        done: TtsDone = await _next(call, TtsDone, 10)
        await asyncio.sleep(1.0)  # a second of the track after the cancel
        position, queued_ms, speech_frames = at_cancel[0]
        assert server_call.track.audio_frames == speech_frames, "speech went out after the cancel"

    assert done.turn == turn and done.status == "cancelled" and done.played_ms is not None
    assert queued_ms >= 500, f"only {queued_ms} ms were queued: nothing to drop, the test proves nothing"
    after = [f for f in heard if f.pts >= position]  # the frame in flight (pts == position) and the rest
    assert len(after) >= 40, "the track goes on after the cancel (silence)"
    first_silent = next((i for i, f in enumerate(after) if f.rms < SILENT), None)
    assert first_silent is not None, "the track never went silent after the cancel"
    late = [f for f in after[first_silent:] if f.rms >= SILENT]
    silent_ms = after[first_silent].track_ms - position / 48
    assert silent_ms <= LIMIT_MS, f"speech went on {silent_ms:.0f} ms of track time after the cancel arrived"
    assert not late, f"speech came back after the silence: {[(f.track_ms, f.rms) for f in late]}"
    # the queued audio was dropped, not played: the client heard no more of the turn than had played
    # when the cancel came (played_ms, one frame of slack), not the synthesized remainder
    spoken = [f for f in heard if f.rms >= SILENT and f.track_ms >= first.track_ms - 20]
    assert spoken and spoken[-1].track_ms + 20 <= position / 48 + LIMIT_MS
    played_at_client = spoken[-1].track_ms + 20 - first.track_ms
    assert played_at_client <= done.played_ms + 20, (played_at_client, done.played_ms)
    print(f"cancel: silent {silent_ms:.0f} ms of track time after it arrived; {queued_ms:.0f} ms queued were "
          f"dropped; {done.played_ms} ms of the turn played")


async def _next(call, kind: type, timeout: float):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        async for event in call:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"the call ended before a {kind.__name__}")
