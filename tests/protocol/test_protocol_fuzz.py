"""Property tests: any input decodes to a message or a ProtocolError; every message round-trips."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_strategies import model_strategy, msgpack_values

from streamvoice.protocol import (
    CLIENT_TYPES,
    SERVER_TYPES,
    Limits,
    ProtocolError,
    decode_client,
    decode_server,
    encode,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "vectors.json").read_text(encoding="utf-8")
)["vectors"]
SEEDS = [bytes.fromhex(v["hex"]) for v in VECTORS if v["frame"] == "binary"]
SMALL = Limits(max_frame_bytes=4096)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_protocol_errors(frame: bytes | str) -> None:
    for decode in (decode_client, decode_server):
        with contextlib.suppress(ProtocolError):
            decode(frame, SMALL)


@FUZZ
@given(st.binary(max_size=256))
def test_random_bytes(frame: bytes) -> None:
    _only_protocol_errors(frame)


@FUZZ
@given(st.text(max_size=64))
def test_random_text_frames(frame: str) -> None:
    with pytest.raises(ProtocolError):
        decode_client(frame)


@FUZZ
@given(msgpack_values())
def test_random_msgpack_values(value: object) -> None:
    _only_protocol_errors(msgpack.packb(value, use_bin_type=True))


@FUZZ
@given(
    st.sampled_from(sorted(set(CLIENT_TYPES) | set(SERVER_TYPES) | {"x"})),
    st.dictionaries(
        st.sampled_from(
            [
                "seq",
                "data",
                "text",
                "final",
                "turn",
                "asr",
                "tts",
                "audio",
                "versions",
                "id",
                "words",
                "utterance",
                "start_s",
                "end_s",
                "sample_rate",
                "offset_ms",
                "level",
                "lag_ms",
                "event",
            ]
        ),
        msgpack_values(6),
        max_size=6,
    ),
)
def test_known_types_with_random_fields(type_name: str, fields: dict[str, object]) -> None:
    _only_protocol_errors(msgpack.packb({"type": type_name, **fields}, use_bin_type=True))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(frame) - 1)))
        if op == "flip" and frame:
            frame[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del frame[pos:]
        elif op == "insert":
            frame[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and frame:
            del frame[pos]
    return bytes(frame)


@FUZZ
@given(mutated())
def test_mutated_vectors(frame: bytes) -> None:
    _only_protocol_errors(frame)


@pytest.mark.parametrize("name", sorted(CLIENT_TYPES))
def test_client_round_trip(name: str) -> None:
    @settings(max_examples=60, deadline=None)
    @given(model_strategy(CLIENT_TYPES[name]))
    def run(message: object) -> None:
        assert decode_client(encode(message)) == message  # type: ignore[arg-type]

    run()


@pytest.mark.parametrize("name", sorted(SERVER_TYPES))
def test_server_round_trip(name: str) -> None:
    @settings(max_examples=60, deadline=None)
    @given(model_strategy(SERVER_TYPES[name]))
    def run(message: object) -> None:
        assert decode_server(encode(message)) == message  # type: ignore[arg-type]

    run()
