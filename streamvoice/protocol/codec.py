"""msgpack <-> message models.

Decoding is strict and total: whatever bytes (or text) arrive, the result is a validated
message or a :class:`ProtocolError` -- never any other exception. The checks, in order:

1. a text frame is ``text_frame``; an empty or oversized frame is ``bad_frame`` /
   ``frame_too_large`` (size is checked before any parsing);
2. the bytes must be exactly one msgpack object with no trailing bytes, no ext types
   (timestamps included), no duplicate map keys and only string or bin map keys, else
   ``bad_frame``; that object must be a map, else ``bad_frame``;
3. the map needs a string ``type`` (else ``invalid_field``) that names a message of the
   expected direction (else ``unknown_type``);
4. the fields are validated strictly against the model (else ``invalid_field``); unknown
   fields are ignored.

Encoding writes ``type`` first, omits ``null`` fields, and for ``hello``/``configure`` sends
only the option fields that were set, so that ``configure`` keeps its "only what is present
changes" meaning across a round trip.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgpack
from pydantic import BaseModel, ValidationError

from streamvoice.protocol.base import MAX_SAFE_INT
from streamvoice.protocol.errors import ErrorCode, ProtocolError
from streamvoice.protocol.limits import Limits
from streamvoice.protocol.messages import (
    CLIENT_TYPES,
    SERVER_TYPES,
    AnyMessage,
    ClientMessage,
    Configure,
    Hello,
    ServerMessage,
)

DEFAULT_LIMITS = Limits()

Frame = bytes | bytearray | memoryview | str

T = TypeVar("T", bound=BaseModel)


class _Reject(Exception):
    """Raised from msgpack hooks; turned into ``bad_frame``."""


def _reject_ext(code: int, data: bytes) -> Any:
    raise _Reject(f"msgpack ext type {code} is not allowed")


def _check_value(value: Any) -> None:
    if isinstance(value, msgpack.Timestamp):
        raise _Reject("msgpack timestamps are not allowed")


def _pairs_hook(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Reject(f"duplicate map key {key!r}")
        _check_value(value)
        out[key] = value
    return out


def _list_hook(items: list[Any]) -> list[Any]:
    for item in items:
        _check_value(item)
    return items


def unpack_frame(frame: Frame, limits: Limits = DEFAULT_LIMITS) -> dict[Any, Any]:
    """Steps 1-2 above: the raw msgpack map of a frame, or ``ProtocolError``."""
    if isinstance(frame, str):
        raise ProtocolError(ErrorCode.TEXT_FRAME, "text frames are not allowed; use binary msgpack frames")
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ProtocolError(ErrorCode.BAD_FRAME, f"frame must be bytes, not {type(frame).__name__}")
    size = len(frame) if not isinstance(frame, memoryview) else frame.nbytes
    if size > limits.max_frame_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            f"frame of {size} bytes exceeds max_frame_bytes={limits.max_frame_bytes}; send smaller chunks",
        )
    if size == 0:
        raise ProtocolError(ErrorCode.BAD_FRAME, "empty frame; each frame must hold one msgpack map")
    try:
        obj = msgpack.unpackb(
            bytes(frame),
            raw=False,
            strict_map_key=True,
            use_list=True,
            object_pairs_hook=_pairs_hook,
            list_hook=_list_hook,
            ext_hook=_reject_ext,
        )
    except _Reject as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid msgpack: {exc}") from None
    except msgpack.ExtraData:
        raise ProtocolError(ErrorCode.BAD_FRAME, "trailing bytes after the msgpack map") from None
    except Exception as exc:  # malformed msgpack: ValueError, UnicodeDecodeError, TypeError, ...
        detail = str(exc)[:120] or type(exc).__name__
        raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid or truncated msgpack: {detail}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, f"frame must hold a msgpack map, not {type(obj).__name__}")
    return obj


def _ref_seq(data: dict[Any, Any]) -> int | None:
    seq = data.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SAFE_INT:
        return seq
    return None


def _describe(exc: ValidationError, type_name: str) -> str:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"]) or "(message)"
    more = exc.error_count() - 1
    suffix = f" (and {more} more)" if more else ""
    return f"{type_name}.{loc}: {first['msg']}{suffix}"


def _decode(frame: Frame, limits: Limits, registry: dict[str, type[T]], direction: str) -> T:
    data = unpack_frame(frame, limits)
    type_name = data.get("type")
    if type_name is None:
        raise ProtocolError(ErrorCode.INVALID_FIELD, "missing 'type' field")
    if not isinstance(type_name, str):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "'type' must be a string")
    cls = registry.get(type_name)
    if cls is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"unknown {direction} message type {type_name[:64]!r}",
            ref_type=type_name[:64],
            ref_seq=_ref_seq(data),
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.INVALID_FIELD, _describe(exc, type_name), ref_type=type_name, ref_seq=_ref_seq(data)
        ) from None
    except Exception as exc:  # defensive: the contract is "ProtocolError only"
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"{type_name}: {type(exc).__name__}") from None


def decode_client(frame: Frame, limits: Limits = DEFAULT_LIMITS) -> ClientMessage:
    """Decode a frame a client sent (server side). Raises only :class:`ProtocolError`."""
    return _decode(frame, limits, CLIENT_TYPES, "client")  # type: ignore[type-var]


def decode_server(frame: Frame, limits: Limits = DEFAULT_LIMITS) -> ServerMessage:
    """Decode a frame the server sent (client side). Raises only :class:`ProtocolError`."""
    return _decode(frame, limits, SERVER_TYPES, "server")  # type: ignore[type-var]


def to_wire(message: AnyMessage) -> dict[str, Any]:
    """The map :func:`encode` packs: ``type`` first, no ``None`` values, options only as set."""
    if isinstance(message, Hello | Configure):
        body = message.model_dump(exclude_unset=True, exclude_none=True)
    else:
        body = message.model_dump(exclude_none=True)
    body.pop("type", None)
    return {"type": message.type, **body}


def encode(message: AnyMessage) -> bytes:
    """Encode a message as one msgpack map (bytes fields as msgpack bin, floats as float64)."""
    packed: bytes = msgpack.packb(to_wire(message), use_bin_type=True)
    return packed
