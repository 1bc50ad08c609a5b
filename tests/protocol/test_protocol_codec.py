"""Codec behaviour on hand-written cases (the vectors and fuzz tests cover the rest)."""

from __future__ import annotations

import msgpack
import pytest

from streamvoice.protocol import (
    CLIENT_TYPES,
    DEFAULT_LIMITS,
    ERROR_TABLE,
    SERVER_TYPES,
    AsrOptions,
    Audio,
    CloseCode,
    Configure,
    ErrorCode,
    Hello,
    Lane,
    Limits,
    ProtocolError,
    Text,
    TtsAudio,
    TtsOptions,
    decode_client,
    decode_server,
    encode,
    lane_for,
    merge_options,
    parse_voice_blend,
)
from streamvoice.protocol.messages import SERVER_ADAPTER, TurnResumed


def _err(frame: bytes | str, limits: Limits = DEFAULT_LIMITS) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_client(frame, limits)
    return info.value


def test_defaults_of_an_empty_hello() -> None:
    hello = decode_client(msgpack.packb({"type": "hello"}))
    assert isinstance(hello, Hello)
    assert hello.versions == [1]
    assert (hello.audio.encoding, hello.audio.sample_rate, hello.audio.channels) == ("pcm_s16le", 16000, 1)
    assert (hello.tts.encoding, hello.tts.sample_rate, hello.tts.voice) == ("pcm_s16le", 24000, "af_heart")
    assert hello.asr.language == "auto" and hello.asr.end_of_speech_ms == 600


def test_encode_puts_type_first_and_omits_none() -> None:
    wire = msgpack.unpackb(encode(Text(text="hi")))
    assert list(wire) == ["type", "text", "final"]
    assert wire == {"type": "text", "text": "hi", "final": False}


def test_hello_and_configure_send_only_the_options_that_were_set() -> None:
    wire = msgpack.unpackb(encode(Configure(tts=TtsOptions(speed=1.5))))
    assert wire == {"type": "configure", "tts": {"speed": 1.5}}
    back = decode_client(encode(Configure(tts=TtsOptions(speed=1.5))))
    assert isinstance(back, Configure) and back.tts is not None
    assert back.tts.model_fields_set == {"speed"}


def test_merge_options_changes_only_present_fields() -> None:
    current = TtsOptions(voice="am_adam", speed=0.8)
    patch = decode_client(msgpack.packb({"type": "configure", "tts": {"speed": 1.2}}))
    assert isinstance(patch, Configure)
    merged = merge_options(current, patch.tts)
    assert merged.voice == "am_adam" and merged.speed == 1.2
    assert merge_options(current, None) is current


def test_bytes_are_msgpack_bin() -> None:
    raw = encode(Audio(seq=1, data=b"\x01\x02"))
    assert b"\xc4\x02\x01\x02" in raw


def test_strictness() -> None:
    assert _err(msgpack.packb({"type": "audio", "seq": 1, "data": "x"})).code is ErrorCode.INVALID_FIELD
    assert _err(msgpack.packb({"type": "text", "text": "x", "final": 0})).code is ErrorCode.INVALID_FIELD
    assert _err(msgpack.packb({"type": "audio", "seq": True, "data": b""})).code is ErrorCode.INVALID_FIELD


def test_invalid_field_names_the_field_and_the_message() -> None:
    err = _err(msgpack.packb({"type": "audio", "seq": 9, "data": "nope"}))
    assert err.code is ErrorCode.INVALID_FIELD and not err.fatal
    assert "audio.data" in err.message
    assert (err.ref_type, err.ref_seq) == ("audio", 9)


def test_unknown_type_is_not_fatal_and_names_the_type() -> None:
    err = _err(msgpack.packb({"type": "teleport"}))
    assert err.code is ErrorCode.UNKNOWN_TYPE and not err.fatal and err.ref_type == "teleport"


def test_frame_errors_are_fatal_with_their_close_codes() -> None:
    assert _err("{}").close_code is CloseCode.UNSUPPORTED_DATA
    assert _err(b"\xc1").close_code is CloseCode.PROTOCOL_ERROR
    big = encode(Audio(seq=1, data=bytes(200)))
    assert _err(big, Limits(max_frame_bytes=100)).close_code is CloseCode.MESSAGE_TOO_BIG


def test_size_limit_is_inclusive() -> None:
    frame = encode(Audio(seq=1, data=bytes(50)))
    assert decode_client(frame, Limits(max_frame_bytes=len(frame)))
    assert _err(frame, Limits(max_frame_bytes=len(frame) - 1)).code is ErrorCode.FRAME_TOO_LARGE


def test_accepts_bytearray_and_memoryview() -> None:
    frame = encode(Audio(seq=1, data=b"\x00\x00"))
    assert decode_client(bytearray(frame)) == decode_client(memoryview(frame)) == decode_client(frame)


def test_non_bytes_input_is_a_protocol_error() -> None:
    assert _err(None).code is ErrorCode.BAD_FRAME  # type: ignore[arg-type]


def test_server_decoding() -> None:
    msg = TtsAudio(turn=1, seq=0, data=b"\x00\x00", sample_rate=24000, offset_ms=0)
    assert decode_server(encode(msg)) == msg
    with pytest.raises(ProtocolError):
        decode_server(encode(Hello()))


def test_every_error_code_has_a_table_entry_and_fatal_ones_a_close_code() -> None:
    assert set(ERROR_TABLE) == set(ErrorCode)
    for spec in ERROR_TABLE.values():
        assert (spec.close_code is not None) == spec.fatal


def test_lanes() -> None:
    assert set(SERVER_TYPES) == {
        "ready",
        "speech",
        "partial",
        "final",
        "turn_resumed",
        "tts_audio",
        "tts_text",
        "tts_done",
        "flow",
        "error",
        "pong",
        "bye",
    }
    samples = {
        "tts_audio": TtsAudio(turn=1, seq=0, data=b"", sample_rate=24000, offset_ms=0),
    }
    assert lane_for(samples["tts_audio"]) is Lane.AUDIO
    assert lane_for(TurnResumed(utterance=1, time_s=0.5)) is Lane.TRANSCRIPT  # ordered with its final
    assert Lane.CONTROL < Lane.TRANSCRIPT < Lane.AUDIO
    assert set(CLIENT_TYPES) == {"hello", "audio", "audio_end", "text", "cancel", "flow", "configure", "ping", "bye"}
    assert SERVER_ADAPTER is not None


@pytest.mark.parametrize(
    ("voice", "expected"),
    [
        ("af_heart", (("af_heart", 1.0),)),
        ("af_heart:0.7,am_adam:0.3", (("af_heart", 0.7), ("am_adam", 0.3))),
        ("a:3,b:1", (("a", 0.75), ("b", 0.25))),
    ],
)
def test_parse_voice_blend(voice: str, expected: tuple[tuple[str, float], ...]) -> None:
    got = parse_voice_blend(voice)
    assert [n for n, _ in got] == [n for n, _ in expected]
    assert [w for _, w in got] == pytest.approx([w for _, w in expected])


@pytest.mark.parametrize("voice", ["", "a:", "A", "a:0,b:0", "a,,b"])
def test_parse_voice_blend_rejects(voice: str) -> None:
    with pytest.raises(ValueError):
        parse_voice_blend(voice)


def test_options_models_are_frozen() -> None:
    opts = AsrOptions()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen
        opts.language = "en"  # type: ignore[misc]
