"""Shared base model and field types for every wire model.

Strict validation is the point: msgpack already carries types, so a string where bytes are
expected, a float where an integer is expected, or ``0`` where a boolean is expected is a
client bug to report, not to paper over. The one coercion kept is integer -> float, because
many msgpack encoders (JavaScript ones in particular) write ``1.0`` as the integer ``1``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: Largest integer every peer can hold exactly (JavaScript numbers are IEEE doubles).
MAX_SAFE_INT = 2**53 - 1

#: Sample rates accepted anywhere in the protocol, in Hz.
SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 24000, 44100, 48000)


class WireModel(BaseModel):
    """Base of every protocol model: frozen, strict, unknown fields ignored, no NaN/inf."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True, allow_inf_nan=False)


def _check_rate(value: int) -> int:
    if value not in SAMPLE_RATES:
        raise ValueError(f"sample rate must be one of {', '.join(map(str, SAMPLE_RATES))}")
    return value


#: Unsigned integer (sequence numbers, ids, milliseconds), at most 2**53 - 1.
UInt = Annotated[int, Field(ge=0, le=MAX_SAFE_INT)]

#: Sample rate in Hz, one of :data:`SAMPLE_RATES` (an integer: ``16000.0`` is rejected).
SampleRate = Annotated[int, AfterValidator(_check_rate), Field(json_schema_extra={"enum": list(SAMPLE_RATES)})]

#: PCM encodings: 16-bit signed little-endian integers or 32-bit little-endian floats.
Encoding = Literal["pcm_s16le", "pcm_f32le"]

#: Bytes per sample for each encoding.
SAMPLE_WIDTH: dict[str, int] = {"pcm_s16le": 2, "pcm_f32le": 4}

#: Non-negative time in seconds.
Seconds = Annotated[float, Field(ge=0.0)]

#: Probability in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
