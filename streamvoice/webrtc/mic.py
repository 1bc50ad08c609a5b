"""The inbound audio track -> 16 kHz mono float samples, one ``AudioSamples`` event per decoded frame.

Whatever the peer sends (Opus at 48 kHz, stereo or mono) is decoded by aiortc; this resamples each
frame with libswresample (``av.AudioResampler``, microseconds per 20 ms frame, so it runs on the
event loop) and hands it to the session, which never blocks. aiortc's receive queue is drained
as fast as frames arrive; a recognizer that falls behind is the ASR pipeline's business (its lag
policy drops audio and says so in ``flow``), not a queue growing here.
"""

from __future__ import annotations

from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streamvoice.runtime.events import AudioSamples
from streamvoice.webrtc.offer import ASR_RATE


async def pump_microphone(track: MediaStreamTrack, deliver: Callable[[AudioSamples], None]) -> int:
    """Feed ``deliver`` until the track ends; returns how many samples (at 16 kHz) were delivered."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=ASR_RATE)
    seq = 0
    total = 0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return total
        if not isinstance(frame, av.AudioFrame):
            continue
        for out in resampler.resample(frame):
            pcm = out.to_ndarray().reshape(-1).astype(np.float32) * (1.0 / 32768.0)
            if pcm.size:
                deliver(AudioSamples(pcm, ASR_RATE, seq))
                seq += 1
                total += pcm.size
