"""A turn's first chunk vocoded in two windows, so its first audio leaves before the whole chunk is made.

Why: the listener waits for the first chunk's whole synthesis (~0.5 s on two cores for ~4
words) before hearing anything. With Kokoro split at the vocoder (:mod:`.vocoder_windows`), the
prosody part runs once (its durations give every word's time), then two windows are vocoded: a
head, whose audio is sent at once, and the whole remainder. Only two, because every join costs
its context frames twice and many small windows left seams (see ``vocoder_windows``).

The head is as short as ``first_audio_window_ms`` allows *and* long enough that its playback
covers the remainder's vocoding, judged from the vocoder's pace measured on this machine at
load: a head of a fixed 0.4 s would leave the client silent for the remainder's ~0.5 s (gapless
playback matters more than an early first sample). When that head would cost nearly the whole
chunk, the chunk is vocoded whole. Later chunks are always whole.

Measured (``bench.tts_ttfa --first-window-ms 400,0``, 8 replies per rate, fresh server per rate
and setting, 2 cores at load ~4 from other work; contexts 8 + 8): first audio p50 1.09 s against
1.64 s whole at 15 words/s, 0.64 against 1.31 s at 50 words/s; the first window's audio always
outlasted the remainder's vocoding (margin min +0.06 s). Under load ~9 the pace measured at
load makes most first chunks whole, as designed. Off by default (``tts.first_audio_window_ms``
= 0) until a run on a quiet machine with the 16 + 16 contexts confirms it: that run was not
possible in this session (load 7-9 from other benchmarks).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from streamvoice.tts.sound_frames import place
from streamvoice.tts.vocoder_windows import FRAME_SAMPLES, SAMPLE_RATE, Prosody, Window, WindowedVocoder, WindowStitcher

# Contexts: ``bench.tts_vocoder_split --two-windows`` found 8 + 8 frames' joins as clean as 16 + 16
# (8 first chunks: spectral change at the join 6.7 dB, the whole audio's own there 8.0) for 0.56x
# instead of ~0.65x the first audio, but the round trip heard two more words wrong over 520 (0.38 ->
# 0.77 %, "built" and "Ahmed" in first chunks, both right again with 16 + 16): 16 + 16 it is.
# With 16 + 16 (``bench.tts_roundtrip --first-window-ms 400 --first-window-pace 0.0125``, 47 of 48
# first chunks split): 0.19 % against 0.38 % whole, 520 words ("lives" lost once, one word fewer wrong).
HEAD_CONTEXT = 16  # frames after the head: its AdaIN statistics and the crossfade's right side
REST_CONTEXT = 16  # frames before the remainder
CROSSFADE = 960  # samples (40 ms) blended at the window join
SAFETY = 0.8  # the remainder must be vocoded within this share of the head's playback
MOST_OF_CHUNK = 0.8  # a head window above this share of the chunk's frames: vocode it whole
# Of the leading pad's frames (13-20), framing keeps about the last 3-7 (the first sound comes
# 0.1-0.15 s before the first word's time): counting 4 as heard keeps the head's playback estimate low.
LEAD_HEARD_FRAMES = 4


@dataclass(frozen=True, slots=True)
class Resume:
    """What the remainder's run needs: the prosody, the voice's style, its window, the join's state."""

    prosody: Prosody
    style: np.ndarray
    window: Window
    stitcher: WindowStitcher


class VocoderPace:
    """Wall seconds per vocoded frame on this machine, measured once (at load, after the warm-up).

    Why once: the head's length decides its rendering (the vocoder normalises over its window), so
    a pace that followed the load would make the same text sound slightly different from one turn
    to the next, and the server and ``say`` would no longer give the same samples.
    """

    def __init__(self, seconds_per_frame: float = 0.0125) -> None:
        self.seconds_per_frame = seconds_per_frame
        self.measuring = False
        self._frames = 0
        self._seconds = 0.0

    def start(self) -> None:
        """Measure the vocoder runs from now until :meth:`stop`."""
        self.measuring, self._frames, self._seconds = True, 0, 0.0

    def observe(self, frames: int, seconds: float) -> None:
        if self.measuring and frames > 0 and seconds > 0:
            self._frames += frames
            self._seconds += seconds

    def stop(self) -> None:
        """Keep the measured pace (unchanged when nothing was vocoded)."""
        self.measuring = False
        if self._frames:
            self.seconds_per_frame = self._seconds / self._frames


def plan_two_windows(frames: int, min_head: int, seconds_per_frame: float,
                     head_context: int = HEAD_CONTEXT, rest_context: int = REST_CONTEXT,
                     crossfade: int = CROSSFADE, safety: float = SAFETY, lead: int = 0) -> tuple[Window, Window] | None:
    """(head, rest) windows of a chunk of ``frames``, or None when splitting would not pay.

    ``lead`` frames at the start are silence that framing drops (:mod:`.lead_silence`), so they
    are not playback. The head's frames ``H`` must satisfy: remainder vocoding
    ``pace * (frames - H + rest_context)`` <= ``safety`` x the head's playback
    ``(H - lead) * 25 ms - crossfade / 2``, and ``H - lead >= min_head``.
    """
    if frames <= 0 or min_head <= 0:
        return None
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    half_s = crossfade / 2 / SAMPLE_RATE
    pace = max(seconds_per_frame, 0.0)
    lead = max(0, lead)
    need = (pace * (frames + rest_context) + safety * (half_s + lead * frame_s)) / (pace + safety * frame_s)
    head = max(min_head + lead, math.ceil(need))
    if head + head_context > MOST_OF_CHUNK * frames:
        return None
    first = Window(0, head, 0, min(frames, head + head_context))
    return first, Window(head, frames, max(0, head - rest_context), frames)


class FirstWindowVocoder:
    """Kokoro's prosody and vocoder parts: whole chunks, or a first chunk in head + remainder.

    Whole chunks run the two parts back to back (the same samples as the unsplit graph), so the
    backend holds these two sessions instead of the whole graph, not beside it.
    """

    def __init__(self, vocoder: WindowedVocoder, min_head_frames: int, pace: VocoderPace | None = None) -> None:
        self.vocoder = vocoder
        self.min_head_frames = min_head_frames
        self.pace = pace or VocoderPace()

    def prosody(self, feeds: dict[str, np.ndarray], run_options: object = None) -> Prosody:
        return self.vocoder.prosody(feeds, run_options)

    def vocode(self, prosody: Prosody, style: np.ndarray, window: Window, run_options: object = None) -> np.ndarray:
        started = time.perf_counter()
        audio = self.vocoder.vocode(prosody, style, window, run_options)
        self.pace.observe(window.hi - window.lo, time.perf_counter() - started)
        return audio

    def whole(self, prosody: Prosody, style: np.ndarray, run_options: object = None,
              span: tuple[int, int] | None = None) -> np.ndarray:
        """The whole chunk; with ``span`` (:func:`.sound_frames.sounding_span`) only those frames are
        vocoded and the rest are zeros."""
        n = prosody.frames
        lo, hi = span if span is not None else (0, n)
        if (lo, hi) == (0, n):
            return self.vocode(prosody, style, Window(0, n, 0, n), run_options)
        return place(self.vocode(prosody, style, Window(lo, hi, lo, hi), run_options), lo, n, FRAME_SAMPLES)

    def plan(self, prosody: Prosody) -> tuple[Window, Window] | None:
        lead = int(prosody.durations[0]) - LEAD_HEARD_FRAMES if prosody.durations.size else 0
        return plan_two_windows(prosody.frames, self.min_head_frames, self.pace.seconds_per_frame, lead=lead)

    def head(self, prosody: Prosody, style: np.ndarray, windows: tuple[Window, Window],
             run_options: object = None) -> tuple[np.ndarray, Resume]:
        """The head's piece (ends ``crossfade / 2`` before the join) and what the remainder needs."""
        first, rest = windows
        stitcher = WindowStitcher(CROSSFADE)
        piece = stitcher.push(first, self.vocode(prosody, style, first, run_options), last=False)
        return piece, Resume(prosody, style, rest, stitcher)

    def rest(self, resume: Resume, run_options: object = None) -> np.ndarray:
        """The remainder's piece, crossfaded into the head's tail, to the chunk's end."""
        audio = self.vocode(resume.prosody, resume.style, resume.window, run_options)
        return resume.stitcher.push(resume.window, audio, last=True)
