"""Voice activity detection: webrtcvad per frame, smoothed into speech start/end decisions.

webrtcvad judges each 10/20/30 ms frame alone and flickers inside words. Speech starts when most
frames of a short window are voiced (the start time is moved back to the first voiced frame of that
window); it ends only after ``end_of_speech_ms`` of continuous unvoiced frames, and the end time is
the end of the last voiced frame, so trailing quiet consonants stay inside the utterance.
Quiet recordings (peaks near -50 dBFS are common in read-speech corpora) are invisible to
webrtcvad, so frames are judged after an automatic gain: the recent peak level (3 s half-life)
is brought towards -10 dBFS, by at most 26 dB; digital silence gets no gain. The gain only
affects the decision; the audio given to Whisper is untouched.
Layer 2: synchronous, no asyncio.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from streamvoice.asr.backend import ASR_SAMPLE_RATE as SAMPLE_RATE

_START_WINDOW_MS = 240  # frames considered when deciding that speech began
_START_RATIO = 0.6  # fraction of them that must be voiced
_TARGET_PEAK = 0.3  # automatic gain aims the recent peak here
_MAX_GAIN = 20.0  # at most +26 dB
_SILENCE_PEAK = 1e-4  # below this the input is treated as digital silence (no gain)
_LEVEL_HALF_LIFE_S = 3.0


@dataclass(frozen=True, slots=True)
class VadEvent:
    kind: Literal["start", "end"]
    time_s: float  # start: first voiced frame; end: end of the last voiced frame


class VoiceActivityDetector:
    """Feeds 16 kHz float32 audio, returns speech start/end events in stream time."""

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30, end_of_speech_ms: int = 600) -> None:
        import webrtcvad  # compiled extension; imported here so layer-1 users never load it

        if frame_ms not in (10, 20, 30):
            raise ValueError(f"webrtcvad frames are 10, 20 or 30 ms, got {frame_ms}")
        self._vad = webrtcvad.Vad(int(aggressiveness))
        self.frame_ms = frame_ms
        self._frame_len = SAMPLE_RATE * frame_ms // 1000
        self._end_frames = max(1, -(-end_of_speech_ms // frame_ms))
        self._window: deque[bool] = deque(maxlen=max(2, _START_WINDOW_MS // frame_ms))
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames = 0  # frames judged so far
        self.in_speech = False
        self._last_voiced_end = 0  # frame index just after the last voiced frame
        self._silent_run = 0
        self._level = 0.0  # recent peak, decaying
        self._decay = 0.5 ** (frame_ms / 1000.0 / _LEVEL_HALF_LIFE_S)

    @property
    def time_s(self) -> float:
        """Stream time up to which audio has been judged."""
        return self._frames * self.frame_ms / 1000.0

    @property
    def silence_ms(self) -> int:
        """Unvoiced audio since the last voiced frame of the open speech region (0 outside speech)."""
        return self._silent_run * self.frame_ms if self.in_speech else 0

    @property
    def last_voiced_end_s(self) -> float:
        return self._last_voiced_end * self.frame_ms / 1000.0

    def process(self, samples: np.ndarray) -> list[VadEvent]:
        buf = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        n = len(buf) // self._frame_len
        self._pending = buf[n * self._frame_len :]
        if n == 0:
            return []
        frames = buf[: n * self._frame_len].reshape(n, self._frame_len)
        events: list[VadEvent] = []
        for i in range(n):
            voiced = self._vad.is_speech(self._gained(frames[i]), SAMPLE_RATE)
            event = self._step(voiced)
            if event is not None:
                events.append(event)
        return events

    def _gained(self, frame: np.ndarray) -> bytes:
        self._level = max(float(np.abs(frame).max()), self._level * self._decay)
        gain = 1.0
        if self._level > _SILENCE_PEAK:
            gain = min(_MAX_GAIN, max(1.0, _TARGET_PEAK / self._level))
        return (np.clip(frame * gain, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()

    def flush(self) -> list[VadEvent]:
        """End of audio: close an open speech region at its last voiced frame."""
        if not self.in_speech:
            return []
        self.in_speech = False
        self._window.clear()
        return [VadEvent("end", self.last_voiced_end_s)]

    def _step(self, voiced: bool) -> VadEvent | None:
        index = self._frames
        self._frames += 1
        if voiced:
            self._last_voiced_end = index + 1
        if not self.in_speech:
            self._window.append(voiced)
            if len(self._window) == self._window.maxlen and sum(self._window) >= _START_RATIO * len(self._window):
                first = list(self._window).index(True)
                start = index + 1 - len(self._window) + first
                self.in_speech = True
                self._silent_run = 0
                self._window.clear()
                return VadEvent("start", start * self.frame_ms / 1000.0)
            return None
        self._silent_run = 0 if voiced else self._silent_run + 1
        if self._silent_run >= self._end_frames:
            self.in_speech = False
            return VadEvent("end", self.last_voiced_end_s)
        return None
