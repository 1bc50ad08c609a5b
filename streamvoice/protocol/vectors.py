"""Golden vectors: valid frames with their decoded form, invalid frames with their error.

Valid vectors marked ``canonical`` are exactly what :func:`encode` produces; the others are
legal encodings other encoders may produce (different int widths, float32, extra fields).
"""

from __future__ import annotations

from typing import Any

import msgpack

from streamvoice.protocol.codec import decode_client, decode_server, encode, unpack_frame
from streamvoice.protocol.errors import ERROR_TABLE, ErrorCode
from streamvoice.protocol.jsonform import to_jsonable
from streamvoice.protocol.limits import Limits
from streamvoice.protocol.messages import (
    AnyMessage,
    Audio,
    AudioEnd,
    Bye,
    Cancel,
    ClientFlow,
    Configure,
    ErrorMessage,
    ErrorRef,
    Final,
    Hello,
    Partial,
    Ping,
    Pong,
    Ready,
    ServerFlow,
    Speech,
    Text,
    TtsAudio,
    TtsDone,
    TtsText,
    TtsWord,
    TurnResumed,
    Word,
)
from streamvoice.protocol.options import AsrOptions, AudioFormat, AudioInputOptions, TtsOptions

PCM = bytes.fromhex("0000ff7f0180feff")  # four s16le samples: 0, 32767, -32767, -2

CLIENT_VALID: list[tuple[str, AnyMessage]] = [
    ("hello_minimal", Hello()),
    (
        "hello_full",
        Hello(
            versions=[1, 2],
            token="secret-token",
            asr=AsrOptions(
                model="whisper-small",
                language="de",
                task="translate",
                partials=False,
                word_timestamps=False,
                vad_aggressiveness=3,
                end_of_speech_ms=800,
                lock_language=True,
                languages=["en", "es"],
            ),
            tts=TtsOptions(voice="af_heart:0.7,am_adam:0.3", speed=1.25, sample_rate=48000, encoding="pcm_f32le"),
            audio=AudioInputOptions(encoding="pcm_f32le", sample_rate=48000, channels=2),
        ),
    ),
    ("hello_some_options", Hello(asr=AsrOptions(language="en"), tts=TtsOptions(voice="am_adam"))),
    ("audio", Audio(seq=0, data=PCM)),
    ("audio_large_seq", Audio(seq=2**53 - 1, data=b"")),
    ("audio_end", AudioEnd()),
    ("audio_end_seq", AudioEnd(seq=41)),
    ("text_delta", Text(text="Hello there, ")),
    ("text_final", Text(text="how are you? 👋", final=True, turn=3)),
    ("text_end_of_turn_only", Text(final=True)),
    ("cancel_all", Cancel()),
    ("cancel_turn", Cancel(turn=3)),
    ("flow_played", ClientFlow(turn=3, played_ms=1520)),
    ("flow_buffered", ClientFlow(buffered_ms=240)),
    ("configure_language", Configure(asr=AsrOptions(language="fr"))),
    ("configure_voice_speed", Configure(tts=TtsOptions(voice="bf_emma", speed=0.75))),
    ("ping", Ping(id=7)),
    ("bye_client", Bye(reason="user hung up")),
]

SERVER_VALID: list[tuple[str, AnyMessage]] = [
    (
        "ready",
        Ready(
            session="s-0f3a9c",
            version=1,
            limits=Limits(),
            input_audio=AudioFormat(encoding="pcm_s16le", sample_rate=16000, channels=1),
            output_audio=AudioFormat(encoding="pcm_s16le", sample_rate=24000, channels=1),
        ),
    ),
    ("speech_start", Speech(event="start", utterance=1, time_s=0.48)),
    ("speech_end", Speech(event="end", utterance=1, time_s=2.25)),
    ("partial", Partial(utterance=1, revision=0, text="hello wor")),
    (
        "partial_words",
        Partial(
            utterance=1,
            revision=2,
            text="hello world how",
            stable_text="hello world",
            words=[Word(word="hello", start_s=0.5, end_s=0.75), Word(word=" world", start_s=0.75, end_s=1.0)],
        ),
    ),
    (
        "final",
        Final(
            utterance=1,
            text="Hello world.",
            words=[
                Word(word="Hello", start_s=0.5, end_s=0.75, probability=0.96875),
                Word(word=" world.", start_s=0.75, end_s=1.25, probability=0.875),
            ],
            language="en",
            language_probability=0.9921875,
            start_s=0.48,
            end_s=1.25,
            latency_ms=180,
        ),
    ),
    ("final_empty", Final(utterance=2, text="", start_s=3.0, end_s=3.5)),
    ("final_eager", Final(utterance=3, text="What time is it", start_s=4.0, end_s=5.25, eager=True)),
    ("turn_resumed", TurnResumed(utterance=3, time_s=5.5)),
    ("tts_audio", TtsAudio(turn=3, seq=0, data=PCM, sample_rate=24000, text="Hello there,", offset_ms=0)),
    (
        "tts_audio_words",
        TtsAudio(
            turn=3,
            seq=1,
            data=PCM,
            sample_rate=24000,
            offset_ms=850,
            words=[TtsWord(word="how", start_ms=850, end_ms=1000)],
        ),
    ),
    ("tts_text", TtsText(turn=3, seq=0, text="Hello there,", offset_ms=0, track_ms=41280)),
    (
        "tts_text_words",
        TtsText(turn=3, seq=1, offset_ms=840, track_ms=42120,
                words=[TtsWord(word="how", start_ms=42130, end_ms=42280)]),
    ),
    ("tts_done", TtsDone(turn=3, duration_ms=2350)),
    ("tts_done_cancelled", TtsDone(turn=4, status="cancelled")),
    (
        "tts_done_heard",
        TtsDone(turn=5, status="cancelled", duration_ms=1800, played_ms=1130, heard_words=3,
                heard_text="Sure, the weather"),
    ),
    ("flow_server", ServerFlow(lag_ms=1250, level=2, dropped_ms=0)),
    (
        "error_nonfatal",
        ErrorMessage(
            code="invalid_field",
            message="audio.seq must increase: got 3 after 5",
            fatal=False,
            ref=ErrorRef(type="audio", seq=3),
        ),
    ),
    ("error_fatal", ErrorMessage(code="unauthorized", message="missing or invalid token", fatal=True)),
    ("error_agent_failed", ErrorMessage(code="agent_failed", message="no answer from the LLM within 20 s")),
    ("pong", Pong(id=7)),
    ("bye_server", Bye(reason="server shutting down")),
]


def _p(obj: Any, **kw: Any) -> bytes:
    packed: bytes = msgpack.packb(obj, use_bin_type=True, **kw)
    return packed


_PING = _p({"type": "ping", "id": 1})
_HELLO = encode(Hello(asr=AsrOptions(language="en")))
_AUDIO = encode(Audio(seq=5, data=PCM))

# name -> (frame bytes, note): legal encodings that are not what encode() writes.
CLIENT_NONCANONICAL: list[tuple[str, bytes, str]] = [
    ("unknown_fields_ignored", _p({"type": "ping", "id": 1, "x_future": [1, {"a": None}]}), "extra keys"),
    ("type_not_first", _p({"id": 1, "type": "ping"}), "key order is free"),
    ("wide_int", bytes.fromhex("82a474797065a470696e67a26964ce00000001"), "uint32 for a small int"),
    ("int_for_float", _p({"type": "configure", "tts": {"speed": 1}}), "number fields accept ints"),
    ("float32", _p({"type": "configure", "tts": {"speed": 1.5}}, use_single_float=True), "float32"),
    ("bin16_data", bytes.fromhex("83a474797065a5617564696fa373657101a464617461c50002") + b"\x01\x00", "bin16"),
    ("str8_type", bytes.fromhex("82d904") + b"type" + bytes.fromhex("d904") + b"ping" + b"\xa2id\x01", "str8"),
    ("null_optional", _p({"type": "text", "text": "hi", "turn": None}), "null = absent"),
]

# name -> (direction, frame, error, note, limits)
Invalid = tuple[str, bytes | str, ErrorCode, str, dict[str, int] | None]

CLIENT_INVALID: list[tuple[str, bytes | str, ErrorCode, str, dict[str, int] | None]] = [
    ("text_frame", '{"type":"ping","id":1}', ErrorCode.TEXT_FRAME, "JSON in a text frame", None),
    ("text_frame_empty", "", ErrorCode.TEXT_FRAME, "empty text frame", None),
    ("empty_frame", b"", ErrorCode.BAD_FRAME, "zero bytes", None),
    ("truncated_map", _HELLO[:-1], ErrorCode.BAD_FRAME, "last byte missing", None),
    ("truncated_bin", _AUDIO[:-3], ErrorCode.BAD_FRAME, "bin shorter than its length", None),
    ("truncated_header", b"\xde\x00", ErrorCode.BAD_FRAME, "map16 header cut", None),
    ("trailing_bytes", _PING + b"\xc0", ErrorCode.BAD_FRAME, "two objects in one frame", None),
    ("two_maps", _PING + _PING, ErrorCode.BAD_FRAME, "two maps in one frame", None),
    ("not_a_map_array", _p(["ping", 1]), ErrorCode.BAD_FRAME, "array at top level", None),
    ("not_a_map_int", _p(7), ErrorCode.BAD_FRAME, "int at top level", None),
    ("not_a_map_nil", b"\xc0", ErrorCode.BAD_FRAME, "nil at top level", None),
    ("reserved_byte", b"\xc1", ErrorCode.BAD_FRAME, "0xc1 is never used", None),
    ("invalid_utf8", bytes.fromhex("81a474797065a2c328"), ErrorCode.BAD_FRAME, "str is not UTF-8", None),
    (
        "duplicate_key",
        bytes.fromhex("82a474797065a470696e67a474797065a3627965"),
        ErrorCode.BAD_FRAME,
        "'type' twice",
        None,
    ),
    ("ext_type", bytes.fromhex("82a474797065a470696e67a26964d40501"), ErrorCode.BAD_FRAME, "ext 5", None),
    (
        "timestamp",
        bytes.fromhex("82a474797065a470696e67a26964d6ff00000000"),
        ErrorCode.BAD_FRAME,
        "msgpack timestamp ext",
        None,
    ),
    ("int_map_key", _p({"type": "ping", 1: 2}), ErrorCode.BAD_FRAME, "map keys must be strings", None),
    ("missing_type", _p({"id": 1}), ErrorCode.INVALID_FIELD, "no 'type'", None),
    ("type_not_string", _p({"type": 1}), ErrorCode.INVALID_FIELD, "'type' is an int", None),
    ("type_as_bin", _p({"type": b"ping"}), ErrorCode.INVALID_FIELD, "'type' is bin, not str", None),
    ("unknown_type", _p({"type": "teleport", "seq": 4}), ErrorCode.UNKNOWN_TYPE, "no such type", None),
    ("server_type_from_client", _p({"type": "ready"}), ErrorCode.UNKNOWN_TYPE, "wrong direction", None),
    ("audio_missing_data", _p({"type": "audio", "seq": 1}), ErrorCode.INVALID_FIELD, "required", None),
    ("audio_missing_seq", _p({"type": "audio", "data": PCM}), ErrorCode.INVALID_FIELD, "required", None),
    ("audio_data_as_str", _p({"type": "audio", "seq": 1, "data": "AAAA"}), ErrorCode.INVALID_FIELD, "str", None),
    ("audio_seq_as_str", _p({"type": "audio", "seq": "1", "data": PCM}), ErrorCode.INVALID_FIELD, "str", None),
    ("audio_seq_float", _p({"type": "audio", "seq": 1.0, "data": PCM}), ErrorCode.INVALID_FIELD, "float", None),
    ("audio_seq_negative", _p({"type": "audio", "seq": -1, "data": PCM}), ErrorCode.INVALID_FIELD, "< 0", None),
    (
        "audio_seq_too_big",
        _p({"type": "audio", "seq": 2**53, "data": PCM}),
        ErrorCode.INVALID_FIELD,
        "> 2**53-1",
        None,
    ),
    ("text_final_as_int", _p({"type": "text", "text": "x", "final": 1}), ErrorCode.INVALID_FIELD, "int", None),
    ("text_as_bin", _p({"type": "text", "text": b"hi"}), ErrorCode.INVALID_FIELD, "bin, not str", None),
    ("hello_versions_empty", _p({"type": "hello", "versions": []}), ErrorCode.INVALID_FIELD, "empty", None),
    ("hello_asr_not_map", _p({"type": "hello", "asr": "en"}), ErrorCode.INVALID_FIELD, "not a map", None),
    (
        "hello_bad_language",
        _p({"type": "hello", "asr": {"language": "english"}}),
        ErrorCode.INVALID_FIELD,
        "not a code",
        None,
    ),
    (
        "hello_bad_languages",
        _p({"type": "hello", "asr": {"languages": ["en", "English"]}}),
        ErrorCode.INVALID_FIELD,
        "an item is not a code",
        None,
    ),
    (
        "hello_bad_task",
        _p({"type": "hello", "asr": {"task": "summarize"}}),
        ErrorCode.INVALID_FIELD,
        "not an allowed value",
        None,
    ),
    (
        "hello_vad_out_of_range",
        _p({"type": "hello", "asr": {"vad_aggressiveness": 4}}),
        ErrorCode.INVALID_FIELD,
        "0..3",
        None,
    ),
    (
        "hello_bad_sample_rate",
        _p({"type": "hello", "audio": {"sample_rate": 22050}}),
        ErrorCode.INVALID_FIELD,
        "not a supported rate",
        None,
    ),
    (
        "hello_sample_rate_float",
        _p({"type": "hello", "audio": {"sample_rate": 16000.0}}),
        ErrorCode.INVALID_FIELD,
        "rates are ints",
        None,
    ),
    (
        "hello_bad_channels",
        _p({"type": "hello", "audio": {"channels": 6}}),
        ErrorCode.INVALID_FIELD,
        "1 or 2",
        None,
    ),
    (
        "hello_bad_encoding",
        _p({"type": "hello", "audio": {"encoding": "opus"}}),
        ErrorCode.INVALID_FIELD,
        "PCM only",
        None,
    ),
    (
        "configure_speed_too_high",
        _p({"type": "configure", "tts": {"speed": 3.0}}),
        ErrorCode.INVALID_FIELD,
        "0.5..2.0",
        None,
    ),
    (
        "configure_speed_nan",
        _p({"type": "configure", "tts": {"speed": float("nan")}}),
        ErrorCode.INVALID_FIELD,
        "NaN",
        None,
    ),
    (
        "configure_bad_voice_blend",
        _p({"type": "configure", "tts": {"voice": "af_heart:,am_adam"}}),
        ErrorCode.INVALID_FIELD,
        "weight missing",
        None,
    ),
    ("flow_negative", _p({"type": "flow", "played_ms": -5}), ErrorCode.INVALID_FIELD, "< 0", None),
    (
        "oversized",
        _p({"type": "audio", "seq": 1, "data": bytes(100)}),
        ErrorCode.FRAME_TOO_LARGE,
        "",
        {"max_frame_bytes": 64},
    ),
]

SERVER_INVALID: list[tuple[str, bytes | str, ErrorCode, str, dict[str, int] | None]] = [
    (
        "final_missing_text",
        _p({"type": "final", "utterance": 1, "start_s": 0, "end_s": 1}),
        ErrorCode.INVALID_FIELD,
        "required",
        None,
    ),
    ("client_type_from_server", _p({"type": "hello"}), ErrorCode.UNKNOWN_TYPE, "wrong direction", None),
    (
        "tts_audio_data_as_str",
        _p({"type": "tts_audio", "turn": 1, "seq": 0, "data": "x", "sample_rate": 24000, "offset_ms": 0}),
        ErrorCode.INVALID_FIELD,
        "str",
        None,
    ),
    (
        "tts_text_missing_track_ms",
        _p({"type": "tts_text", "turn": 1, "seq": 0, "offset_ms": 0}),
        ErrorCode.INVALID_FIELD,
        "required",
        None,
    ),
    ("flow_level_out_of_range", _p({"type": "flow", "lag_ms": 0, "level": 4}), ErrorCode.INVALID_FIELD, "0..3", None),
    (
        "speech_bad_event",
        _p({"type": "speech", "event": "pause", "utterance": 1, "time_s": 0}),
        ErrorCode.INVALID_FIELD,
        "start or end",
        None,
    ),
]


def _valid_entry(name: str, direction: str, frame: bytes, canonical: bool, note: str = "") -> dict[str, Any]:
    decode = decode_client if direction == "client" else decode_server
    message = decode(frame)
    entry: dict[str, Any] = {
        "name": name,
        "direction": direction,
        "frame": "binary",
        "hex": frame.hex(),
        "canonical": canonical,
        "wire": to_jsonable(unpack_frame(frame)),
        "decoded": to_jsonable(message.model_dump()),
    }
    if note:
        entry["note"] = note
    return entry


def _invalid_entry(
    name: str, direction: str, frame: bytes | str, code: ErrorCode, note: str, limits: dict[str, int] | None
) -> dict[str, Any]:
    raw = frame.encode("utf-8") if isinstance(frame, str) else frame
    entry: dict[str, Any] = {
        "name": name,
        "direction": direction,
        "frame": "text" if isinstance(frame, str) else "binary",
        "hex": raw.hex(),
        "error": code.value,
        "fatal": ERROR_TABLE[code].fatal,
    }
    if note:
        entry["note"] = note
    if limits:
        entry["limits"] = limits
    return entry


def build_vectors() -> dict[str, Any]:
    """The whole vectors document (see protocol/vectors/README in PROTOCOL.md section 10)."""
    vectors: list[dict[str, Any]] = []
    for name, msg in CLIENT_VALID:
        vectors.append(_valid_entry(name, "client", encode(msg), True))
    for name, msg in SERVER_VALID:
        vectors.append(_valid_entry(name, "server", encode(msg), True))
    for name, frame, note in CLIENT_NONCANONICAL:
        vectors.append(_valid_entry(name, "client", frame, False, note))
    for name, sframe, code, note, limits in CLIENT_INVALID:
        vectors.append(_invalid_entry(name, "client", sframe, code, note, limits))
    for name, sframe, code, note, limits in SERVER_INVALID:
        vectors.append(_invalid_entry(name, "server", sframe, code, note, limits))
    return {
        "protocol_version": 1,
        "description": (
            "Golden vectors for streamvoice protocol v1. 'hex' is the WebSocket message payload; "
            "'frame' says whether it arrives as a binary or a text frame. Valid vectors give 'wire' "
            "(the msgpack map as JSON) and 'decoded' (after defaults); bytes are {\"$bytes\": hex}. "
            "Invalid vectors give the error code the receiver must produce; 'limits' overrides "
            "the default limits for that vector. 'direction' names the sender."
        ),
        "default_limits": Limits().model_dump(),
        "vectors": vectors,
    }
