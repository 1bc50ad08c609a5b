"""The mic session's parts without a server: bounded hand-off, speaker buffer, echo and barge-in."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace
from typing import Any

import fake_sounddevice

from streamvoice.mic.captions import CaptionPrinter
from streamvoice.mic.loop import MicLoop
from streamvoice.mic.playback import SpeakerPlayback
from streamvoice.mic.queues import DropOldestQueue


async def test_drop_oldest_queue_counts_drops() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(asyncio.get_running_loop(), maxsize=3)
    for i in range(5):
        queue.put_threadsafe(i)
    await asyncio.sleep(0)
    assert queue.dropped == 2
    assert [await queue.get() for _ in range(3)] == [2, 3, 4]


def test_speaker_buffer_is_bounded_and_flushes() -> None:
    speaker = SpeakerPlayback(fake_sounddevice.build(), sample_rate=8000)
    speaker.write(b"\x01\x00" * 8000 * 12)  # 12 s into a 10 s buffer
    assert speaker.buffered_ms == 10_000 and speaker.dropped_bytes == 2 * 8000 * 2
    speaker.flush()
    assert speaker.buffered_ms == 0 and not speaker.playing


def test_caption_printer_plain_output() -> None:
    out = io.StringIO()
    printer = CaptionPrinter(out, live=False)
    printer.partial(" hello wor")
    printer.final(" Hello world.", 0.5, 1.25, "en")
    assert out.getvalue() == "[   0.5–   1.2s en] Hello world.\n"


class _FakeSession:
    """Plays back scripted server events; records what the loop sends."""

    def __init__(self, script: list[tuple[float, Any]]) -> None:
        self.script = script
        self.sent: list[tuple[str, Any]] = []

    async def send_audio(self, data: bytes) -> None:
        self.sent.append(("audio", len(data)))

    async def say(self, text: str) -> None:
        self.sent.append(("say", text))

    async def cancel(self) -> None:
        self.sent.append(("cancel", None))

    async def _events(self) -> Any:
        for delay, event in self.script:
            await asyncio.sleep(delay)
            yield event
        await asyncio.sleep(3600)

    def __aiter__(self) -> Any:
        return self._events()


def _ev(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**fields)


async def test_echo_then_barge_in() -> None:
    speech = b"\x00\x10" * 24000  # 1 s at 24 kHz
    session = _FakeSession([
        (0.1, _ev(type="final", text=" Hello there.", start_s=0.2, end_s=1.0, language="en", words=[])),
        (0.1, _ev(type="tts_audio", turn=1, seq=0, data=speech, sample_rate=24000)),
        (0.1, _ev(type="speech", event="start", utterance=2, time_s=2.0)),
        (0.0, _ev(type="tts_audio", turn=1, seq=1, data=speech, sample_rate=24000)),  # late: discard
    ])
    sd = fake_sounddevice.build()
    out = io.StringIO()
    loop = MicLoop(sd, session, CaptionPrinter(out, live=False), echo=True)
    stats = await loop.run(duration_s=0.8)
    assert ("say", "Hello there.") in session.sent
    assert ("cancel", None) in session.sent
    assert stats.barge_ins == 1 and stats.frames_sent > 10
    assert loop.speaker is not None and loop.speaker.buffered_ms == 0
    assert "Hello there." in out.getvalue()
    played = bytes(sd.played)
    assert 0 < played.count(b"\x00\x10") < 24000  # some of turn 1 played, then it was cut off
