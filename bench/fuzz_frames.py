"""Fuzzed client frames and the answer PROTOCOL.md requires for each (pure: no sockets).

Every frame comes with its :class:`Expect`: what the reference decoder (``decode_client``, the
same code the schema and golden vectors come from) says a receiver must do with it, before any
state is involved: a fatal error (code and close code), a non-fatal error, or nothing at the
decoding level (a valid message, which may still earn a state or semantic error, listed in
:data:`SEMANTIC_CODES`). Kinds of frame: random bytes, valid messages with one byte flipped, cut
short or with bytes appended, messages with a field replaced by a value of another type or
removed, unknown types, text frames, oversized frames, and valid messages sent out of order
(``hello`` twice, decreasing ``audio.seq``, turn ids going back, anything before ``hello``).
Valid messages carry silence and empty or three-letter texts, so the fuzz never makes the models work
hard: it tests the server, not the speed of synthesis.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import msgpack

from streamvoice.protocol.codec import decode_client
from streamvoice.protocol.errors import ERROR_TABLE, ProtocolError
from streamvoice.protocol.limits import Limits

#: Errors a decodable message may still earn from the session (state, order, options, bounds).
SEMANTIC_CODES = frozenset({"bad_state", "invalid_field", "unknown_voice", "model_unavailable", "text_too_long",
                            "rate_limited", "unsupported_version", "server_busy"})


@dataclass(frozen=True, slots=True)
class Expect:
    """What the server must answer: ``code`` None means no decoding error (valid message)."""

    code: str | None
    fatal: bool = False
    close_code: int | None = None


@dataclass(frozen=True, slots=True)
class FuzzFrame:
    kind: str
    payload: bytes | str  # str: sent as a text frame
    expect: Expect


def expect_for(payload: bytes | str, limits: Limits) -> Expect:
    """The reference decoder's verdict on one frame."""
    try:
        decode_client(payload, limits)
    except ProtocolError as exc:
        spec = ERROR_TABLE[exc.code]
        return Expect(exc.code.value, exc.fatal, int(spec.close_code) if spec.close_code is not None else None)
    return Expect(None)


def _seeds(seq: int, turn: int) -> list[dict[str, Any]]:
    silence = bytes(640)
    return [
        {"type": "audio", "seq": seq, "data": silence},
        {"type": "audio_end", "seq": seq},
        {"type": "text", "text": "", "final": False},
        {"type": "text", "text": "", "final": True, "turn": turn},
        {"type": "cancel"},
        {"type": "cancel", "turn": turn},
        {"type": "flow", "turn": turn, "played_ms": 100, "buffered_ms": 50},
        {"type": "configure", "asr": {"partials": False, "vad_aggressiveness": 2}, "tts": {"speed": 1.1}},
        {"type": "ping", "id": seq},
        {"type": "hello", "versions": [1], "asr": {"language": "en"}, "tts": {"voice": "af_heart"}},
    ]


_ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**53, 2**64 - 1, -(2**63), 1.0, 0.5, -0.0, math.nan, math.inf, "", "xyz",
    "\u00e9\u4e2d", b"", b"\x00\x01", [], [1, "a"], {}, {"a": 1}, "pcm_s16le", 48000, 7,
)


def _mutate_fields(rng: random.Random, message: dict[str, Any]) -> dict[str, Any]:
    out = dict(message)
    keys = [k for k in out if k != "type"]
    action = rng.randrange(6)
    if action == 0 and keys:
        out[rng.choice(keys)] = rng.choice(_ODD_VALUES)
    elif action == 1 and keys:
        del out[rng.choice(keys)]
    elif action == 2:
        out["x_" + str(rng.randrange(1000))] = rng.choice(_ODD_VALUES)  # unknown field: ignored
    elif action == 3:
        out["type"] = rng.choice(("teleport", "", "HELLO", "audio ", "tts_audio", "ready", "error", 5, None, b"ping"))
    elif action == 4:
        for key in keys:
            if isinstance(out[key], dict):
                inner = dict(out[key])
                inner[rng.choice([*inner, "encoding", "sample_rate", "voice", "language"])] = rng.choice(_ODD_VALUES)
                out[key] = inner
    else:
        out.pop("type", None)
    return out


def _pack(message: Any) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


class FrameFuzzer:
    """Deterministic stream of fuzzed frames (``seed``) for one connection at a time."""

    def __init__(self, seed: int, limits: Limits) -> None:
        self.rng = random.Random(seed)
        self.limits = limits
        self.seq = 0
        self.turn = 0

    def _frame(self, kind: str, payload: bytes | str) -> FuzzFrame:
        return FuzzFrame(kind, payload, expect_for(payload, self.limits))

    def next(self) -> FuzzFrame:
        """One fuzzed frame; fatal ones are rarer, since each costs a new connection."""
        rng = self.rng
        self.seq += rng.randrange(0, 3)  # sometimes repeats: audio out of order
        if rng.random() < 0.05:
            self.turn = max(0, self.turn - rng.randrange(3))  # turn ids going back
        else:
            self.turn += rng.randrange(0, 2)
        seed = rng.choice(_seeds(self.seq, self.turn))
        roll = rng.random()
        if roll < 0.40:
            return self._frame("fields", _pack(_mutate_fields(rng, seed)))
        if roll < 0.70:
            return self._frame("valid", _pack(seed))
        if roll < 0.78:
            raw = bytearray(_pack(seed))
            for _ in range(rng.randrange(1, 4)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            return self._frame("flipped", bytes(raw))
        if roll < 0.84:
            raw = _pack(seed)
            return self._frame("truncated", raw[: rng.randrange(len(raw))])
        if roll < 0.88:
            return self._frame("trailing", _pack(seed) + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5))))
        if roll < 0.92:
            return self._frame("random", bytes(rng.randrange(256) for _ in range(rng.randrange(0, 48))))
        if roll < 0.95:
            return self._frame("not_a_map", _pack(rng.choice(([1, 2], 5, None, "hello", b"\x00", 1.5))))
        if roll < 0.97:
            return self._frame("text_frame", '{"type": "ping"}')
        if roll < 0.985:
            return self._frame("oversized", _pack({"type": "audio", "seq": self.seq,
                                                   "data": bytes(self.limits.max_frame_bytes + 2)}))
        return self._frame("ext_or_dupkey", rng.choice((
            b"\x82\xa4type\xa4ping\xa4type\xa4ping",  # duplicate key
            b"\x81\xa4type\xd6\xff\x00\x00\x00\x01",  # timestamp ext as the type
            b"\x81\x01\xa4ping",  # integer key
            b"\x81\xa4type\xa2\xff\xfe",  # invalid UTF-8
        )))
