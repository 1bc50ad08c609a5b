"""Protocol error codes, WebSocket close codes, and the one exception the codec may raise.

Every failure a peer can cause is named by an :class:`ErrorCode`; the table :data:`ERROR_TABLE`
says whether it ends the session and with which WebSocket close code, so the spec, the
server and the clients share one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class ErrorCode(StrEnum):
    """Machine-readable error codes carried in ``error.code`` (wire form: the string value)."""

    BAD_FRAME = "bad_frame"
    TEXT_FRAME = "text_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FIELD = "invalid_field"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNAUTHORIZED = "unauthorized"
    BAD_STATE = "bad_state"
    RATE_LIMITED = "rate_limited"
    TEXT_TOO_LONG = "text_too_long"
    UNKNOWN_VOICE = "unknown_voice"
    MODEL_UNAVAILABLE = "model_unavailable"
    TIMEOUT = "timeout"
    SLOW_CONSUMER = "slow_consumer"
    SERVER_BUSY = "server_busy"
    INTERNAL = "internal"
    AGENT_FAILED = "agent_failed"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (RFC 6455 section 7.4 plus 4000-range app codes)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013
    HELLO_TIMEOUT = 4001
    SLOW_CONSUMER = 4008


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """How an error code is handled: fatal ones close the socket with ``close_code``."""

    fatal: bool
    close_code: CloseCode | None


ERROR_TABLE: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.BAD_FRAME: ErrorSpec(True, CloseCode.PROTOCOL_ERROR),
    ErrorCode.TEXT_FRAME: ErrorSpec(True, CloseCode.UNSUPPORTED_DATA),
    ErrorCode.FRAME_TOO_LARGE: ErrorSpec(True, CloseCode.MESSAGE_TOO_BIG),
    ErrorCode.UNKNOWN_TYPE: ErrorSpec(False, None),
    ErrorCode.INVALID_FIELD: ErrorSpec(False, None),
    ErrorCode.UNSUPPORTED_VERSION: ErrorSpec(True, CloseCode.PROTOCOL_ERROR),
    ErrorCode.UNAUTHORIZED: ErrorSpec(True, CloseCode.POLICY_VIOLATION),
    ErrorCode.BAD_STATE: ErrorSpec(False, None),
    ErrorCode.RATE_LIMITED: ErrorSpec(False, None),
    ErrorCode.TEXT_TOO_LONG: ErrorSpec(False, None),
    ErrorCode.UNKNOWN_VOICE: ErrorSpec(False, None),
    ErrorCode.MODEL_UNAVAILABLE: ErrorSpec(False, None),
    ErrorCode.TIMEOUT: ErrorSpec(True, CloseCode.HELLO_TIMEOUT),
    ErrorCode.SLOW_CONSUMER: ErrorSpec(True, CloseCode.SLOW_CONSUMER),
    ErrorCode.SERVER_BUSY: ErrorSpec(True, CloseCode.TRY_AGAIN_LATER),
    ErrorCode.INTERNAL: ErrorSpec(True, CloseCode.INTERNAL_ERROR),
    ErrorCode.AGENT_FAILED: ErrorSpec(False, None),
}


class ProtocolError(Exception):
    """A peer broke the protocol (or the server must refuse it).

    ``ref`` names the offending message as ``{"type": ..., "seq": ...}`` (either may be absent)
    so the error sent back can point at it. ``fatal`` defaults to the code's entry in
    :data:`ERROR_TABLE`.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fatal: bool | None = None,
        ref_type: str | None = None,
        ref_seq: int | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.fatal = ERROR_TABLE[code].fatal if fatal is None else fatal
        self.ref_type = ref_type
        self.ref_seq = ref_seq

    @property
    def close_code(self) -> CloseCode | None:
        """WebSocket close code to use when this error is fatal, else ``None``."""
        if not self.fatal:
            return None
        return ERROR_TABLE[self.code].close_code or CloseCode.PROTOCOL_ERROR

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, fatal={self.fatal})"
