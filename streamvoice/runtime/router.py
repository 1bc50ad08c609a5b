"""Frame router: what the session core decoded goes to the right pipeline.

audio -> ASR pipeline, text -> TTS pipeline, control (cancel, flow, configure, bye, start/close)
-> the session. The router holds no state; the :class:`RouteTarget` (the session) does.
"""

from __future__ import annotations

from typing import Protocol

from streamvoice.protocol.session_events import (
    AudioEnded,
    AudioReceived,
    CancelRequested,
    ClientBye,
    Event,
    FlowReported,
    OptionsChanged,
    SessionClosed,
    SessionStarted,
    TextReceived,
)


class RouteTarget(Protocol):
    def on_started(self, event: SessionStarted) -> None: ...
    def on_audio(self, event: AudioReceived) -> None: ...
    def on_audio_end(self, event: AudioEnded) -> None: ...
    def on_text(self, event: TextReceived) -> None: ...
    def on_cancel(self, event: CancelRequested) -> None: ...
    def on_flow(self, event: FlowReported) -> None: ...
    def on_options(self, event: OptionsChanged) -> None: ...
    def on_bye(self, event: ClientBye) -> None: ...
    def on_closed(self, event: SessionClosed) -> None: ...


def route(event: Event, target: RouteTarget) -> None:
    """Deliver one session-core event (never blocks)."""
    if isinstance(event, AudioReceived):  # the hot path first
        target.on_audio(event)
    elif isinstance(event, FlowReported):
        target.on_flow(event)
    elif isinstance(event, TextReceived):
        target.on_text(event)
    elif isinstance(event, CancelRequested):
        target.on_cancel(event)
    elif isinstance(event, AudioEnded):
        target.on_audio_end(event)
    elif isinstance(event, SessionStarted):
        target.on_started(event)
    elif isinstance(event, OptionsChanged):
        target.on_options(event)
    elif isinstance(event, ClientBye):
        target.on_bye(event)
    elif isinstance(event, SessionClosed):
        target.on_closed(event)
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"unroutable event {event!r}")
