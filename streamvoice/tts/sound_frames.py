"""Which of a chunk's aligned frames the vocoder must run over: the ones that can sound.

Why: Kokoro gives every chunk a leading pad of 13-20 frames (25 ms each) whose first ~13 come
out as digital zero, and a closing pad (plus the pause of a final comma or period) whose last
~7 frames are digital zero too. The vocoder costs ~8 ms per frame on two cores whatever the
frame holds, so a one-word opener like "Sure," (54 frames, 30 of them pads and pause) spent
about half its time making silence that framing then drops (:mod:`.lead_silence`).

The vocoder runs from ``LEAD_CONTEXT`` frames before the first phoneme to ``TAIL_CONTEXT``
frames into the closing silence; the frames outside are zeros, so the chunk keeps its length and
every word its time. Measured on 5 chunks (a one-off script; whole-graph rendering as
reference): the skipped frames were -104 to -106 dB in the whole rendering, i.e. zero; the sound
starts 1.6 frames into the window for "Sure," (1.2 in the whole rendering), so its onset is not
cut. The vocoder normalises each channel over its window (see :mod:`.vocoder_windows`), so the
kept frames are a slightly different rendering, not a copy: ``bench.tts_roundtrip`` and
``bench.tts_ttfa`` measure what that costs and saves. Pure numpy.
"""

from __future__ import annotations

import numpy as np

LEAD_CONTEXT = 8  # leading-pad frames kept before the first phoneme: the onset's breath and attack
TAIL_CONTEXT = 4  # closing-silence frames kept: the last sound's decay (-70..-90 dB there)
PAUSE_MARKS = ",.!?;:…"  # a chunk ending in one of these has a pause token before the closing pad


def sounding_span(durations: np.ndarray, ends_in_pause: bool) -> tuple[int, int]:
    """Frames ``[lo, hi)`` to vocode of a chunk whose tokens (pads included) got ``durations`` frames.

    ``ends_in_pause``: the token before the closing pad is a pause mark, silent like the pad.
    """
    d = np.asarray(durations).reshape(-1).astype(np.int64)
    total = int(d.sum())
    if d.size < 3:  # pads only, or a graph without durations: nothing to judge by
        return 0, total
    lead = int(d[0])
    silent_tail = int(d[-1]) + (int(d[-2]) if ends_in_pause and d.size > 3 else 0)
    lo = max(0, lead - LEAD_CONTEXT)
    hi = min(total, max(lo + 1, total - max(0, silent_tail - TAIL_CONTEXT)))
    return lo, hi


def place(audio: np.ndarray, lo: int, total: int, frame_samples: int) -> np.ndarray:
    """``audio`` vocoded over frames from ``lo``, put back at its place in ``total`` frames of zeros."""
    out = np.zeros(total * frame_samples, dtype=np.float32)
    start = lo * frame_samples
    piece = np.asarray(audio, np.float32).reshape(-1)[: out.size - start]
    out[start : start + piece.size] = piece
    return out
