"""The mic session: microphone → server, captions → terminal, (echo) speech → speaker.

Two tasks share one client session: `_send` streams microphone frames, `_receive` handles the
server's events. Barge-in: a `speech start` while the speaker is playing sends `cancel`, drops the
queued speech at once and discards late `tts_audio` of the cancelled turns.

A WebRTC call (`mic --webrtc`) has no `tts_audio`: its speech arrives on the call's track
(`session.audio.frames()`), which a third task, `_play_track`, hands to the speaker. The track
sends silence when idle; those frames are not written (after a short hangover, so pauses inside
speech stay), so `speaker.playing` still means "speech is playing" for barge-in.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from streamvoice.mic.captions import CaptionPrinter
from streamvoice.mic.capture import MicCapture
from streamvoice.mic.playback import SpeakerPlayback

TRACK_RATE = 48_000  # a call's speech track
TRACK_QUIET_RMS = 1e-4  # a track frame below this is the idle track's silence
TRACK_HANGOVER_S = 0.6  # quiet frames within this of speech are pauses in it, and are played


@dataclass
class MicStats:
    frames_sent: int = 0
    finals: list[str] = field(default_factory=list)
    turns_spoken: int = 0
    barge_ins: int = 0
    errors: list[str] = field(default_factory=list)


class MicLoop:
    def __init__(self, sd: ModuleType, session: Any, printer: CaptionPrinter, *, echo: bool) -> None:
        self._sd = sd
        self._session = session
        self._printer = printer
        self._echo = echo
        self._speaker: SpeakerPlayback | None = None
        self._cancelled_up_to = 0
        self._last_turn = 0
        self.stats = MicStats()

    @property
    def speaker(self) -> SpeakerPlayback | None:
        return self._speaker

    async def run(self, duration_s: float | None) -> MicStats:
        async with MicCapture(self._sd) as mic:
            tasks = {asyncio.create_task(self._send(mic), name="mic-send"),
                     asyncio.create_task(self._receive(), name="mic-receive")}
            track = getattr(self._session, "audio", None)  # a WebRTC call: speech on its track
            if self._echo and track is not None:
                tasks.add(asyncio.create_task(self._play_track(track), name="mic-track"))
            try:
                done, _ = await asyncio.wait(tasks, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # surface a failure of any side
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if self._speaker is not None:
                    self._speaker.close()
        return self.stats

    async def _send(self, mic: MicCapture) -> None:
        while True:
            frame = await mic.read()
            await self._session.send_audio(frame)
            self.stats.frames_sent += 1

    async def _receive(self) -> None:
        async for event in self._session:
            kind = getattr(event, "type", None)
            if kind == "partial":
                self._printer.partial(event.text)
            elif kind == "final" and not getattr(event, "eager", False):  # eager: tentative (PROTOCOL 6.4.1)
                await self._final(event)
            elif kind == "speech" and event.event == "start":
                await self._maybe_barge_in()
            elif kind == "tts_audio":
                self._play(event)
            elif kind == "flow" and getattr(event, "level", 0) > 0:
                self._printer.note(f"the server is {event.lag_ms} ms behind (level {event.level})")
            elif kind == "error":
                self.stats.errors.append(f"{event.code}: {event.message}")
                self._printer.note(f"server error {event.code}: {event.message}")

    async def _final(self, event: Any) -> None:
        self.stats.finals.append(event.text)
        self._printer.final(event.text, event.start_s, event.end_s, getattr(event, "language", None))
        if self._echo and event.text.strip():
            turn = await self._session.say(event.text.strip())
            self._last_turn = turn if isinstance(turn, int) else self._last_turn + 1
            self.stats.turns_spoken += 1

    async def _maybe_barge_in(self) -> None:
        if self._speaker is None or not self._speaker.playing:
            return
        await self._session.cancel()
        self._speaker.flush()
        self._cancelled_up_to = self._last_turn
        self.stats.barge_ins += 1

    async def _play_track(self, track: Any) -> None:
        """A call's speech track to the speaker; the idle track's silence is left out (module docstring)."""
        last_speech = float("-inf")
        async for frame in track.frames():
            if frame.rms >= TRACK_QUIET_RMS:
                last_speech = frame.at
            elif frame.at - last_speech > TRACK_HANGOVER_S:
                continue
            if self._speaker is None:
                self._speaker = SpeakerPlayback(self._sd, TRACK_RATE)
                self._speaker.start()
            self._speaker.write(frame.pcm_s16le())

    def _play(self, event: Any) -> None:
        if event.turn <= self._cancelled_up_to:
            return
        if self._speaker is None:
            self._speaker = SpeakerPlayback(self._sd, event.sample_rate)
            self._speaker.start()
        self._speaker.write(event.data)
