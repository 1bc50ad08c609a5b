"""What a server accepts, as pure data, and the option checks made against it (hello, configure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from streamvoice.protocol.errors import ErrorCode, ProtocolError
from streamvoice.protocol.limits import Limits
from streamvoice.protocol.messages import PROTOCOL_VERSION
from streamvoice.protocol.options import AsrOptions, TtsOptions, parse_voice_blend


def _allow_all(token: str | None) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """What this server accepts; pure data (``authorize`` must be a pure, fast predicate)."""

    versions: tuple[int, ...] = (PROTOCOL_VERSION,)
    limits: Limits = field(default_factory=Limits)
    authorize: Callable[[str | None], bool] = _allow_all
    asr_models: frozenset[str] | None = None
    """Names of the ASR models the server has loaded; ``None`` accepts any."""
    default_asr_model: str | None = None
    """The model a ``hello`` that names none gets (``ready.asr.model`` says it); ``None``: the wire default."""
    voices: frozenset[str] | None = None
    """Known voice names (blends are checked part by part); ``None`` accepts any."""
    hello_timeout_s: float = 10.0


def check_options(policy: ServerPolicy, asr: AsrOptions, tts: TtsOptions, ref: str) -> None:
    """Refuse a model the server has not loaded or a voice it does not have (``ProtocolError``)."""
    models = policy.asr_models
    if models is not None and asr.model not in models:
        raise ProtocolError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"ASR model {asr.model!r} is not loaded on this server; loaded: {', '.join(sorted(models))}",
            ref_type=ref,
        )
    voices = policy.voices
    if voices is not None:
        unknown = [name for name, _ in parse_voice_blend(tts.voice) if name not in voices]
        if unknown:
            raise ProtocolError(
                ErrorCode.UNKNOWN_VOICE,
                f"unknown voice {unknown[0]!r}; choose from {sorted(voices)[:20]}",
                ref_type=ref,
            )
