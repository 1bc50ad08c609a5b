"""Messages the server sends to a client (see protocol/PROTOCOL.md, section 5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from streamvoice.protocol.base import Probability, SampleRate, Seconds, UInt, WireModel
from streamvoice.protocol.limits import Limits
from streamvoice.protocol.options import AsrOptions, AudioFormat, TtsOptions


class Ready(WireModel):
    """Answer to a successful ``hello``: the session is open."""

    type: Literal["ready"] = "ready"
    session: Annotated[str, Field(min_length=1, max_length=128)]
    """Server-chosen session id (for logs and support)."""
    version: UInt
    """Protocol version chosen from the client's ``versions``."""
    limits: Limits = Limits()
    input_audio: AudioFormat
    """Format the server expects in ``audio`` messages."""
    output_audio: AudioFormat
    """Format of ``tts_audio`` data."""
    asr: AsrOptions = AsrOptions()
    """Effective ASR options."""
    tts: TtsOptions = TtsOptions()
    """Effective TTS options."""


class Speech(WireModel):
    """Voice activity: an utterance started or ended."""

    type: Literal["speech"] = "speech"
    event: Literal["start", "end"]
    utterance: UInt
    """Utterance id, increasing from 1."""
    time_s: Seconds
    """Audio time in seconds since the first input sample of the session."""


class Word(WireModel):
    """A recognised word with audio times in seconds."""

    word: str
    start_s: Seconds
    end_s: Seconds
    probability: Probability | None = None


class Partial(WireModel):
    """Interim hypothesis for an utterance in progress; each one replaces the previous."""

    type: Literal["partial"] = "partial"
    utterance: UInt
    revision: UInt
    """Increases with every partial of the utterance, from 0."""
    text: str
    """Full hypothesis so far."""
    stable_text: str = ""
    """Prefix of ``text`` that will not change any more."""
    words: list[Word] | None = None


class Final(WireModel):
    """Final transcript of an utterance; no partial for it follows."""

    type: Literal["final"] = "final"
    utterance: UInt
    text: str
    words: list[Word] = Field(default_factory=list, json_schema_extra={"default": []})  # the schema says so too
    language: str | None = None
    """Detected (or forced) language code."""
    language_probability: Probability | None = None
    start_s: Seconds
    """Audio time of the utterance's start, seconds."""
    end_s: Seconds
    """Audio time of the utterance's end, seconds."""
    latency_ms: UInt | None = None
    """Milliseconds from end of speech to this message leaving the server."""
    eager: bool = False
    """An eager end of turn: the utterance has probably ended and stays open (6.4.1)."""


class TurnResumed(WireModel):
    """The user went on speaking: the eager final of this utterance is withdrawn."""

    type: Literal["turn_resumed"] = "turn_resumed"
    utterance: UInt
    time_s: Seconds
    """Audio time the speech resumed (about), seconds."""


class TtsWord(WireModel):
    """A spoken word with times in milliseconds from the start of the turn's audio."""

    word: str
    start_ms: UInt
    end_ms: UInt


class TtsAudio(WireModel):
    """A chunk of synthesised speech in the session's output format."""

    type: Literal["tts_audio"] = "tts_audio"
    turn: UInt
    seq: UInt
    """Increases by one per chunk within the turn, from 0."""
    data: bytes
    sample_rate: SampleRate
    """Hz (same as ``ready.output_audio``)."""
    text: str = ""
    """The text this chunk speaks, when it starts a sentence."""
    offset_ms: UInt
    """Position of this chunk's first sample in the turn, milliseconds."""
    words: list[TtsWord] | None = None
    """Word timings, when the voice provides them."""


class TtsText(WireModel):
    """WebRTC calls only (PROTOCOL §13): what a chunk of the audio track says, sent as it starts playing."""

    type: Literal["tts_text"] = "tts_text"
    turn: UInt
    seq: UInt
    """Increases by one per ``tts_text`` within the turn, from 0."""
    text: str = ""
    """The text this chunk speaks, when it starts a sentence."""
    offset_ms: UInt
    """Position of the chunk's first sample in the turn, milliseconds (turn time)."""
    track_ms: UInt
    """Track time of that sample: milliseconds of the outbound track's media clock (RTP timestamp / 48)."""
    words: list[TtsWord] | None = None
    """Word timings in track time, when the voice provides them."""


class TtsDone(WireModel):
    """A turn's audio is over: every chunk was sent, or the rest was dropped."""

    type: Literal["tts_done"] = "tts_done"
    turn: UInt
    status: Literal["complete", "cancelled", "error"] = "complete"
    duration_ms: UInt | None = None
    """Milliseconds of audio sent for the turn."""
    played_ms: UInt | None = None
    """Cancelled: how much of the turn the client had played (its ``flow`` reports, else real time)."""
    heard_words: UInt | None = None
    """Words of the turn heard: every word whose audio ended by ``played_ms`` (all when complete)."""
    heard_text: str | None = None
    """Those words, joined: what the listener heard before the turn stopped."""


class ServerFlow(WireModel):
    """Server load report: sent whenever the degradation level changes (never silently)."""

    type: Literal["flow"] = "flow"
    lag_ms: UInt
    """How far ASR processing trails the audio received, milliseconds."""
    level: Annotated[int, Field(ge=0, le=3)] = 0
    """0 normal, 1 slower partials, 2 finals only, 3 dropping input audio."""
    dropped_ms: UInt = 0
    """Input audio dropped since the previous flow message, milliseconds."""


class ErrorRef(WireModel):
    """Points at the message that caused an error."""

    type: str | None = None
    seq: UInt | None = None


class ErrorMessage(WireModel):
    """Something went wrong; if ``fatal`` the server closes the socket right after."""

    type: Literal["error"] = "error"
    code: Annotated[str, Field(min_length=1, max_length=64)]
    """One of the codes in PROTOCOL.md section 7 (clients must accept unknown codes)."""
    message: str = ""
    """Human-readable: what was wrong and what to do."""
    fatal: bool = False
    ref: ErrorRef | None = None


class Pong(WireModel):
    """Answer to ``ping``."""

    type: Literal["pong"] = "pong"
    id: UInt = 0
