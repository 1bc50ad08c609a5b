"""The silence a synthesized chunk starts with, and how much of it to drop before framing.

Why: Kokoro opens every chunk with ~0.3 s in which nothing is heard: its leading pad token is
given 13-20 frames (25 ms each), of which the first ~0.2 s come out as digital zero and the
rest as a floor 60-90 dB below the speech. At a turn's start that is latency the listener pays
after the first frame arrives; between two chunks of one sentence it is a half-second hole.
Giving the pad fewer frames in the graph is no cure: the first ~0.2 s are silent whatever the
pad, so a pad under ~10 frames swallows the first word ("Sure, I can help" was heard as "I can
help" with 1-3 frames, "where I can help" with 8). kokoro-onnx trims its output for the same
reason. So the audio is trimmed after synthesis, up to a short margin before the first sound.
Pure numpy.
"""

from __future__ import annotations

import numpy as np

BLOCK_MS = 10.0  # the level is judged per block of this length
THRESHOLD_DB = -50.0  # a block this far below the loudest one is silence
MARGIN_MS = 40.0  # kept before the first block above the threshold (the onset's breath and attack)


def leading_silence(audio: np.ndarray, sample_rate: int, first_word_s: float | None = None) -> int:
    """Samples of ``audio``'s start to drop: all before its first sound less ``MARGIN_MS``.

    Never past ``first_word_s`` (where the timings put the first word, when known), and 0 for
    audio with no sound at all (nothing to judge the threshold by).
    """
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    block = max(1, int(sample_rate * BLOCK_MS / 1000.0))
    n = x.size // block
    if n == 0:
        return 0
    energy = np.square(x[: n * block].astype(np.float64)).reshape(n, block).mean(axis=1)
    loudest = float(energy.max())
    if loudest <= 1e-12:
        return 0
    floor = loudest * 10.0 ** (THRESHOLD_DB / 10.0)
    onset = int(np.argmax(energy > floor)) * block
    cut = max(0, onset - int(sample_rate * MARGIN_MS / 1000.0))
    if first_word_s is not None:
        cut = min(cut, max(0, int(first_word_s * sample_rate)))
    return cut
