"""Golden vectors (protocol/vectors/vectors.json): every decoder must agree with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamvoice.protocol import (
    CLIENT_TYPES,
    SERVER_TYPES,
    ErrorCode,
    Limits,
    ProtocolError,
    decode_client,
    decode_server,
    encode,
    unpack_frame,
)
from streamvoice.protocol.jsonform import from_jsonable, to_jsonable
from streamvoice.protocol.messages import CLIENT_ADAPTER, SERVER_ADAPTER

VECTORS_FILE = Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "vectors.json"
DOC = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VALID = [v for v in DOC["vectors"] if "error" not in v]
INVALID = [v for v in DOC["vectors"] if "error" in v]


def _frame(v: dict[str, Any]) -> bytes | str:
    raw = bytes.fromhex(v["hex"])
    return raw.decode("utf-8") if v["frame"] == "text" else raw


def _limits(v: dict[str, Any]) -> Limits:
    return Limits(**{**DOC["default_limits"], **v.get("limits", {})})


def test_names_are_unique() -> None:
    names = [v["name"] for v in DOC["vectors"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("v", VALID, ids=lambda v: v["name"])
def test_valid_vector(v: dict[str, Any]) -> None:
    decode = decode_client if v["direction"] == "client" else decode_server
    frame = _frame(v)
    message = decode(frame, _limits(v))
    assert to_jsonable(message.model_dump()) == v["decoded"]
    assert to_jsonable(unpack_frame(frame)) == v["wire"]
    adapter = CLIENT_ADAPTER if v["direction"] == "client" else SERVER_ADAPTER
    assert adapter.validate_python(from_jsonable(v["decoded"])) == message
    if v["canonical"]:
        assert encode(message) == frame


@pytest.mark.parametrize("v", INVALID, ids=lambda v: v["name"])
def test_invalid_vector(v: dict[str, Any]) -> None:
    decode = decode_client if v["direction"] == "client" else decode_server
    with pytest.raises(ProtocolError) as info:
        decode(_frame(v), _limits(v))
    assert info.value.code.value == v["error"]
    assert info.value.fatal == v["fatal"]


def test_every_message_type_has_a_valid_vector() -> None:
    client = {v["decoded"]["type"] for v in VALID if v["direction"] == "client"}
    server = {v["decoded"]["type"] for v in VALID if v["direction"] == "server"}
    assert client == set(CLIENT_TYPES)
    assert server == set(SERVER_TYPES)


def test_invalid_vectors_cover_every_decoder_error() -> None:
    codes = {v["error"] for v in INVALID}
    for code in (
        ErrorCode.TEXT_FRAME,
        ErrorCode.BAD_FRAME,
        ErrorCode.FRAME_TOO_LARGE,
        ErrorCode.UNKNOWN_TYPE,
        ErrorCode.INVALID_FIELD,
    ):
        assert code.value in codes
