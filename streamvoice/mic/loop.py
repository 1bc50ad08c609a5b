"""The mic session: microphone → server, captions → terminal, (echo) speech → speaker.

Two tasks share one client session: `_send` streams microphone frames, `_receive` handles the
server's events. Barge-in: a `speech start` while the speaker is playing sends `cancel`, drops the
queued speech at once and discards late `tts_audio` of the cancelled turns.
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
            sender = asyncio.create_task(self._send(mic), name="mic-send")
            receiver = asyncio.create_task(self._receive(), name="mic-receive")
            try:
                done, _ = await asyncio.wait(
                    {sender, receiver}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()  # surface a failure of either side
            finally:
                for task in (sender, receiver):
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

    def _play(self, event: Any) -> None:
        if event.turn <= self._cancelled_up_to:
            return
        if self._speaker is None:
            self._speaker = SpeakerPlayback(self._sd, event.sample_rate)
            self._speaker.start()
        self._speaker.write(event.data)
