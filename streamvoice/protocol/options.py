"""Session options a client sets in ``hello`` and changes with ``configure``.

Every field has a default, so ``{"type": "hello"}`` alone opens a working session
(``pcm_s16le`` 16 kHz mono in, ``pcm_s16le`` 24 kHz mono out). In ``configure`` only the fields
actually present on the wire change (see :func:`merge_options`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field

from streamvoice.protocol.base import Encoding, SampleRate, WireModel

# A voice, or a blend "name:weight,name:weight" (weights are positive decimals).
VOICE_PATTERN = r"^[a-z0-9_]{1,64}(:[0-9]+(\.[0-9]+)?)?(,[a-z0-9_]{1,64}(:[0-9]+(\.[0-9]+)?)?){0,7}$"
LANGUAGE_PATTERN = r"^(auto|[a-z]{2,3})$"
LANGUAGE_CODE = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]


class AsrOptions(WireModel):
    """Speech recognition options."""

    model: Annotated[str, Field(min_length=1, max_length=64)] = "whisper-base"
    """ASR model name, e.g. ``whisper-base``. Absent from ``hello``: the server's default (``ready.asr.model``
    says which). A model the server has not loaded is answered with ``model_unavailable`` naming those it has."""
    language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] = "auto"
    """``auto`` to detect (then hold the session's language), or an ISO 639-1/639-3 code such as ``en``."""
    languages: Annotated[list[LANGUAGE_CODE], Field(max_length=16)] = Field(default_factory=list)
    """With ``auto``: detect only among these codes (e.g. ``["en", "es"]``); empty means any."""
    task: Literal["transcribe", "translate"] = "transcribe"
    """``translate`` produces English text from any language."""
    partials: bool = True
    """Send ``partial`` messages while an utterance is in progress."""
    word_timestamps: bool = True
    """Include per-word times in ``final`` (and in ``partial`` when available)."""
    vad_aggressiveness: Annotated[int, Field(ge=0, le=3)] = 2
    """Voice activity detector aggressiveness, 0 (keeps most audio) to 3 (drops most)."""
    end_of_speech_ms: Annotated[int, Field(ge=100, le=5000)] = 600
    """Silence, in milliseconds, that ends an utterance."""
    lock_language: bool = False
    """Once the session's language is settled, never switch it (``auto`` otherwise may switch on a
    long, confident detection, from the next utterance)."""


class TtsOptions(WireModel):
    """Speech synthesis options (these also fix the output audio format)."""

    voice: Annotated[str, Field(pattern=VOICE_PATTERN)] = "af_heart"
    """A voice name, or a blend such as ``af_heart:0.7,am_adam:0.3`` (weights are normalised)."""
    speed: Annotated[float, Field(ge=0.5, le=2.0)] = 1.0
    """Speaking rate multiplier."""
    sample_rate: SampleRate = 24000
    """Output sample rate in Hz."""
    encoding: Encoding = "pcm_s16le"
    """Output PCM encoding (output is always mono)."""


class AudioInputOptions(WireModel):
    """Format of the audio the client sends in ``audio`` messages (fixed for the session)."""

    encoding: Encoding = "pcm_s16le"
    """Input PCM encoding, little-endian, channels interleaved."""
    sample_rate: SampleRate = 16000
    """Input sample rate in Hz."""
    channels: Literal[1, 2] = 1
    """1 (mono) or 2 (stereo, downmixed by the server)."""


class AudioFormat(WireModel):
    """A concrete PCM format, as announced in ``ready``."""

    encoding: Encoding
    sample_rate: SampleRate
    """Hz."""
    channels: Literal[1, 2] = 1


def parse_voice_blend(voice: str) -> tuple[tuple[str, float], ...]:
    """Split ``a:0.7,b:0.3`` into normalised ``(name, weight)`` pairs; a bare name weighs 1.

    Raises ``ValueError`` for a malformed blend or weights that sum to zero.
    """
    if not re.fullmatch(VOICE_PATTERN, voice):
        raise ValueError(f"malformed voice {voice!r}")
    pairs: list[tuple[str, float]] = []
    for part in voice.split(","):
        name, _, weight = part.partition(":")
        pairs.append((name, float(weight) if weight else 1.0))
    total = sum(w for _, w in pairs)
    if total <= 0:
        raise ValueError(f"voice weights in {voice!r} sum to zero")
    return tuple((name, w / total) for name, w in pairs)


M = TypeVar("M", bound=BaseModel)


def merge_options(current: M, patch: M | None) -> M:
    """Apply a ``configure`` section: fields present on the wire replace, the rest are kept."""
    if patch is None:
        return current
    return current.model_copy(update={name: getattr(patch, name) for name in patch.model_fields_set})


__all__ = [
    "AsrOptions",
    "AudioFormat",
    "AudioInputOptions",
    "TtsOptions",
    "merge_options",
    "parse_voice_blend",
]
