"""What the session core returns: actions for the I/O layer and events for the application.

All are frozen slotted dataclasses so tests can compare them with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamvoice.protocol.errors import CloseCode
from streamvoice.protocol.messages import Lane, ServerMessage
from streamvoice.protocol.options import AsrOptions, AudioInputOptions, TtsOptions

# --- actions: the I/O layer must carry these out, in order --------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Queue ``data`` (the encoded ``message``) on ``lane`` as one binary frame."""

    message: ServerMessage
    lane: Lane
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Flush the control lane, then close the WebSocket with ``code`` and ``reason``."""

    code: CloseCode
    reason: str


# --- events: what the client asked for, for the application ------------------------------


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """``hello`` accepted and ``ready`` sent; start the pipelines with these options."""

    session: str
    version: int
    token: str | None
    asr: AsrOptions
    tts: TtsOptions
    audio: AudioInputOptions


@dataclass(frozen=True, slots=True)
class AudioReceived:
    """Input audio, already checked for order and whole sample frames."""

    seq: int
    data: bytes


@dataclass(frozen=True, slots=True)
class AudioEnded:
    """The client ended the current utterance."""

    seq: int | None


@dataclass(frozen=True, slots=True)
class TextReceived:
    """Text to speak in ``turn`` (turn id already resolved); ``final`` closes the turn."""

    turn: int
    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """Barge-in: stop ``turn`` (``None``: every turn not yet done) and purge its audio."""

    turn: int | None


@dataclass(frozen=True, slots=True)
class FlowReported:
    """Client playback report (credit for TTS pacing)."""

    turn: int | None
    played_ms: int | None
    buffered_ms: int | None


@dataclass(frozen=True, slots=True)
class OptionsChanged:
    """Effective options after a ``configure``."""

    asr: AsrOptions
    tts: TtsOptions


@dataclass(frozen=True, slots=True)
class ClientBye:
    """The client ended the session; stop work, ``bye`` and close already follow."""

    reason: str


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """The connection is gone; release everything."""


Action = Send | Close
Event = (
    SessionStarted
    | AudioReceived
    | AudioEnded
    | TextReceived
    | CancelRequested
    | FlowReported
    | OptionsChanged
    | ClientBye
    | SessionClosed
)
Output = Action | Event
