"""The typed inbound events a session consumes, whatever transport they came from.

Most are the protocol core's events (:mod:`streamvoice.protocol.session_events`), which carry no
wire format. Audio is the exception: the core hands over PCM bytes in the negotiated encoding, so
a transport turns them into :class:`AudioSamples` (float samples at a stated rate) before the
session sees them; a WebRTC audio track would make the same event from its decoded frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from streamvoice.protocol.session_events import (
    AudioEnded,
    CancelRequested,
    ClientBye,
    FlowReported,
    OptionsChanged,
    SessionClosed,
    SessionStarted,
    TextReceived,
)


@dataclass(frozen=True, slots=True)
class AudioSamples:
    """Input audio: mono float32 samples in [-1, 1] at ``sample_rate``."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    seq: int | None = None  # the transport's sequence number, for error references


Inbound = (
    SessionStarted
    | AudioSamples
    | AudioEnded
    | TextReceived
    | CancelRequested
    | FlowReported
    | OptionsChanged
    | ClientBye
    | SessionClosed
)

__all__ = [
    "AudioEnded",
    "AudioSamples",
    "CancelRequested",
    "ClientBye",
    "FlowReported",
    "Inbound",
    "OptionsChanged",
    "SessionClosed",
    "SessionStarted",
    "TextReceived",
]
