"""Messages a client sends to the server (see protocol/PROTOCOL.md, section 4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from streamvoice.protocol.base import UInt, WireModel
from streamvoice.protocol.options import AsrOptions, AudioInputOptions, TtsOptions

PROTOCOL_VERSION = 1


class Hello(WireModel):
    """First message of a session: versions the client speaks, credentials and options."""

    type: Literal["hello"] = "hello"
    versions: Annotated[list[UInt], Field(min_length=1, max_length=16)] = Field(
        default_factory=lambda: [PROTOCOL_VERSION]
    )
    """Protocol versions the client implements; the server picks the highest it shares."""
    token: Annotated[str, Field(max_length=4096)] | None = None
    """Opaque bearer token, when the server requires one."""
    asr: AsrOptions = AsrOptions()
    tts: TtsOptions = TtsOptions()
    audio: AudioInputOptions = AudioInputOptions()
    """Format of the audio the client will send."""


class Audio(WireModel):
    """A chunk of microphone audio in the session's input format."""

    type: Literal["audio"] = "audio"
    seq: UInt
    """Strictly increasing per session (gaps allowed, repeats and decreases are not)."""
    data: bytes
    """PCM samples, channels interleaved; length a multiple of sample width x channels."""


class AudioEnd(WireModel):
    """End the current utterance now, without waiting for silence (push-to-talk release)."""

    type: Literal["audio_end"] = "audio_end"
    seq: UInt | None = None
    """``seq`` of the last ``audio`` message belonging to the utterance, if known."""


class Text(WireModel):
    """A text delta to speak; ``final`` ends the turn."""

    type: Literal["text"] = "text"
    text: str = ""
    """Text to append to the turn (may be empty, e.g. a bare end-of-turn)."""
    final: bool = False
    """True on the last delta of the turn: flush and speak everything left."""
    turn: UInt | None = None
    """Turn id; omitted means the open turn, or a new one numbered last + 1."""


class Cancel(WireModel):
    """Barge-in: stop speaking now and drop queued audio."""

    type: Literal["cancel"] = "cancel"
    turn: UInt | None = None
    """Turn to cancel; omitted cancels every turn not yet completed."""


class ClientFlow(WireModel):
    """Playback report; this is the credit that paces TTS audio."""

    type: Literal["flow"] = "flow"
    turn: UInt | None = None
    """Turn whose playback position is reported (omitted: the turn now playing)."""
    played_ms: UInt | None = None
    """Milliseconds of that turn already played out."""
    buffered_ms: UInt | None = None
    """Milliseconds of received audio not yet played (all turns)."""


class Configure(WireModel):
    """Change options mid-session; only fields present change. Input format cannot change."""

    type: Literal["configure"] = "configure"
    asr: AsrOptions | None = None
    tts: TtsOptions | None = None


class Ping(WireModel):
    """Liveness/latency probe; answered by ``pong`` with the same id."""

    type: Literal["ping"] = "ping"
    id: UInt = 0


class Bye(WireModel):
    """Orderly end of the session (sent by either side)."""

    type: Literal["bye"] = "bye"
    reason: Annotated[str, Field(max_length=1024)] = ""
