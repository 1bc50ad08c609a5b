"""The sans-I/O session core, driven with plain data: no socket, no event loop, no clock."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamvoice.protocol import (
    CLIENT_TYPES,
    TRANSITIONS,
    AudioEnded,
    AudioReceived,
    CancelRequested,
    ClientBye,
    Close,
    CloseCode,
    ErrorCode,
    ErrorMessage,
    FlowReported,
    Lane,
    Limits,
    OptionsChanged,
    Partial,
    Ready,
    Send,
    ServerPolicy,
    SessionClosed,
    SessionCore,
    SessionStarted,
    State,
    TextReceived,
    decode_server,
)
from streamvoice.protocol.session_events import Output


def frame(**fields: Any) -> bytes:
    return msgpack.packb(fields, use_bin_type=True)


def errors(out: list[Output]) -> list[ErrorMessage]:
    return [o.message for o in out if isinstance(o, Send) and isinstance(o.message, ErrorMessage)]


def events(out: list[Output]) -> list[Output]:
    return [o for o in out if not isinstance(o, Send | Close)]


def ready_core(policy: ServerPolicy | None = None, **hello: Any) -> SessionCore:
    core = SessionCore("s1", now=0.0, policy=policy)
    out = core.receive_frame(frame(type="hello", **hello), now=0.0)
    assert core.state is State.READY, out
    return core


def test_hello_opens_the_session() -> None:
    core = SessionCore("s1", now=0.0)
    out = core.receive_frame(frame(type="hello", audio={"sample_rate": 48000}), now=0.1)
    assert core.state is State.READY
    send, started = out
    assert isinstance(send, Send) and send.lane is Lane.CONTROL
    ready = decode_server(send.data)
    assert isinstance(ready, Ready) and ready.session == "s1" and ready.version == 1
    assert ready.input_audio.sample_rate == 48000
    assert (ready.output_audio.encoding, ready.output_audio.sample_rate) == ("pcm_s16le", 24000)
    assert isinstance(started, SessionStarted) and started.audio.sample_rate == 48000
    assert core.next_deadline() is None


def test_version_negotiation_picks_the_highest_shared() -> None:
    core = ready_core(ServerPolicy(versions=(1, 2)), versions=[1, 2, 3])
    assert core.version == 2


def test_unsupported_version_is_fatal() -> None:
    core = SessionCore("s1", now=0.0)
    out = core.receive_frame(frame(type="hello", versions=[7]), now=0.0)
    assert errors(out)[0].code == "unsupported_version" and errors(out)[0].fatal
    assert out[-1] == Close(CloseCode.PROTOCOL_ERROR, "unsupported_version")
    assert core.state is State.CLOSING
    assert core.receive_frame(frame(type="ping"), now=0.1) == []


def test_unauthorized_closes_with_policy_violation() -> None:
    policy = ServerPolicy(authorize=lambda token: token == "good")
    core = SessionCore("s1", now=0.0, policy=policy)
    out = core.receive_frame(frame(type="hello", token="bad"), now=0.0)
    assert out[-1] == Close(CloseCode.POLICY_VIOLATION, "unauthorized")
    assert ready_core(policy, token="good").state is State.READY


def test_unknown_voice_in_hello_can_be_retried() -> None:
    policy = ServerPolicy(voices=frozenset({"af_heart", "am_adam"}), asr_models=frozenset({"whisper-base"}))
    core = SessionCore("s1", now=0.0, policy=policy)
    out = core.receive_frame(frame(type="hello", tts={"voice": "af_heart:0.5,zz_nobody:0.5"}), now=0.0)
    assert [e.code for e in errors(out)] == ["unknown_voice"] and not errors(out)[0].fatal
    assert core.state is State.CONNECTING
    out = core.receive_frame(frame(type="hello", asr={"model": "whisper-huge"}), now=0.0)
    assert [e.code for e in errors(out)] == ["model_unavailable"]
    core.receive_frame(frame(type="hello", tts={"voice": "af_heart:0.5,am_adam:0.5"}), now=0.0)
    assert core.state is State.READY


def test_messages_before_hello_are_bad_state_but_ping_works() -> None:
    core = SessionCore("s1", now=0.0)
    out = core.receive_frame(frame(type="audio", seq=3, data=b"\x00\x00"), now=0.0)
    (err,) = errors(out)
    assert err.code == "bad_state" and not err.fatal and err.ref is not None and err.ref.seq == 3
    out = core.receive_frame(frame(type="ping", id=5), now=0.0)
    assert decode_server(out[0].data).model_dump() == {"type": "pong", "id": 5}  # type: ignore[union-attr]
    assert core.state is State.CONNECTING


def test_second_hello_is_bad_state() -> None:
    core = ready_core()
    assert [e.code for e in errors(core.receive_frame(frame(type="hello"), now=0.0))] == ["bad_state"]
    assert core.state is State.READY


def test_audio_order_and_sample_alignment() -> None:
    core = ready_core(audio={"encoding": "pcm_s16le", "channels": 2})
    assert core.receive_frame(frame(type="audio", seq=1, data=bytes(8)), now=0) == [AudioReceived(1, bytes(8))]
    assert events(core.receive_frame(frame(type="audio", seq=5, data=bytes(4)), now=0)) == [AudioReceived(5, bytes(4))]
    out = core.receive_frame(frame(type="audio", seq=5, data=bytes(4)), now=0)
    assert [e.code for e in errors(out)] == ["invalid_field"] and not events(out)
    out = core.receive_frame(frame(type="audio", seq=6, data=bytes(6)), now=0)
    assert [e.code for e in errors(out)] == ["invalid_field"] and "multiple of 4" in errors(out)[0].message
    assert core.receive_frame(frame(type="audio_end", seq=6), now=0) == [AudioEnded(6)]


def test_text_turns_are_numbered_and_closed_by_final() -> None:
    core = ready_core()
    assert core.receive_frame(frame(type="text", text="Hi, "), now=0) == [TextReceived(1, "Hi, ", False)]
    assert core.receive_frame(frame(type="text", text="you.", final=True), now=0) == [TextReceived(1, "you.", True)]
    assert core.receive_frame(frame(type="text", text="Next"), now=0) == [TextReceived(2, "Next", False)]
    out = core.receive_frame(frame(type="text", text="x", turn=9), now=0)
    assert [e.code for e in errors(out)] == ["bad_state"]
    core.receive_frame(frame(type="text", final=True, turn=2), now=0)
    assert core.receive_frame(frame(type="text", text="a", turn=10), now=0) == [TextReceived(10, "a", False)]
    core.receive_frame(frame(type="text", final=True), now=0)
    out = core.receive_frame(frame(type="text", text="old", turn=4), now=0)
    assert [e.code for e in errors(out)] == ["bad_state"]


def test_text_too_long_drops_only_the_offending_delta() -> None:
    core = ready_core(ServerPolicy(limits=Limits(max_text_chars=10)))
    assert events(core.receive_frame(frame(type="text", text="12345"), now=0)) == [TextReceived(1, "12345", False)]
    out = core.receive_frame(frame(type="text", text="123456"), now=0)
    assert [e.code for e in errors(out)] == ["text_too_long"] and not events(out)
    assert events(core.receive_frame(frame(type="text", text="12345", final=True), now=0))
    assert events(core.receive_frame(frame(type="text", text="1234567890"), now=0))


def test_cancel_closes_the_open_turn() -> None:
    core = ready_core()
    core.receive_frame(frame(type="text", text="Long answer"), now=0)
    assert core.receive_frame(frame(type="cancel"), now=0) == [CancelRequested(None)]
    assert core.receive_frame(frame(type="text", text="New"), now=0) == [TextReceived(2, "New", False)]
    assert core.receive_frame(frame(type="cancel", turn=2), now=0) == [CancelRequested(2)]


def test_flow_is_reported() -> None:
    core = ready_core()
    out = core.receive_frame(frame(type="flow", turn=1, played_ms=500, buffered_ms=120), now=0)
    assert out == [FlowReported(1, 500, 120)]


def test_configure_merges_and_validates() -> None:
    core = ready_core(ServerPolicy(voices=frozenset({"af_heart", "am_adam"})), asr={"language": "en"})
    (changed,) = core.receive_frame(frame(type="configure", tts={"voice": "am_adam", "speed": 1.5}), now=0)
    assert isinstance(changed, OptionsChanged)
    assert (changed.tts.voice, changed.tts.speed, changed.asr.language) == ("am_adam", 1.5, "en")
    out = core.receive_frame(frame(type="configure", tts={"voice": "nobody"}), now=0)
    assert [e.code for e in errors(out)] == ["unknown_voice"] and core.tts.voice == "am_adam"
    out = core.receive_frame(frame(type="configure", tts={"sample_rate": 16000}), now=0)
    assert [e.code for e in errors(out)] == ["invalid_field"] and core.tts.sample_rate == 24000


def test_client_bye() -> None:
    core = ready_core()
    out = core.receive_frame(frame(type="bye", reason="done"), now=0)
    assert out[0] == ClientBye("done")
    assert decode_server(out[1].data).type == "bye"  # type: ignore[union-attr]
    assert out[2] == Close(CloseCode.NORMAL, "bye")
    assert core.state is State.CLOSING
    assert core.receive_frame(frame(type="ping"), now=0) == []
    assert core.connection_lost() == [SessionClosed()]
    assert core.state is State.CLOSED
    assert core.connection_lost() == []


@pytest.mark.parametrize(
    ("payload", "code", "close"),
    [
        ("text", "text_frame", CloseCode.UNSUPPORTED_DATA),
        (b"\x92\x01", "bad_frame", CloseCode.PROTOCOL_ERROR),
        (msgpack.packb({"type": "audio", "seq": 1, "data": bytes(300)}), "frame_too_large", CloseCode.MESSAGE_TOO_BIG),
    ],
)
def test_fatal_frame_errors(payload: bytes | str, code: str, close: CloseCode) -> None:
    core = ready_core(ServerPolicy(limits=Limits(max_frame_bytes=256)))
    out = core.receive_frame(payload, now=0)
    assert [e.code for e in errors(out)] == [code] and out[-1] == Close(close, code)
    assert core.state is State.CLOSING


def test_unknown_type_is_answered_and_the_session_goes_on() -> None:
    core = ready_core()
    (err,) = errors(core.receive_frame(frame(type="teleport", seq=2), now=0))
    assert err.code == "unknown_type" and not err.fatal and err.ref is not None and err.ref.type == "teleport"
    assert core.state is State.READY


def test_rate_limit_drops_with_one_error_then_recovers() -> None:
    core = ready_core(ServerPolicy(limits=Limits(max_messages_per_s=10)))  # hello spent one token
    ping = frame(type="ping")
    outs = [core.receive_frame(ping, now=0.0) for _ in range(9)]
    assert all(len(o) == 1 and not errors(o) for o in outs)
    out = core.receive_frame(ping, now=0.0)
    assert [e.code for e in errors(out)] == ["rate_limited"]
    assert core.receive_frame(ping, now=0.0) == []
    assert not errors(core.receive_frame(ping, now=0.5))
    assert core.state is State.READY


def test_hello_timeout() -> None:
    core = SessionCore("s1", now=100.0, policy=ServerPolicy(hello_timeout_s=5))
    assert core.next_deadline() == 105.0
    assert core.tick(104.9) == []
    out = core.tick(105.0)
    assert [e.code for e in errors(out)] == ["timeout"] and out[-1] == Close(CloseCode.HELLO_TIMEOUT, "timeout")
    assert core.next_deadline() is None and core.tick(200.0) == []


def test_shutdown_and_fail() -> None:
    core = ready_core()
    out = core.shutdown("maintenance")
    assert decode_server(out[0].data).model_dump() == {"type": "bye", "reason": "maintenance"}  # type: ignore[union-attr]
    assert out[1] == Close(CloseCode.GOING_AWAY, "going away")
    assert core.shutdown() == [] and core.fail(ErrorCode.INTERNAL, "x") == []
    core = ready_core()
    out = core.fail(ErrorCode.SLOW_CONSUMER, "client reads too slowly")
    assert [e.code for e in errors(out)] == ["slow_consumer"] and out[-1] == Close(
        CloseCode.SLOW_CONSUMER, "slow_consumer"
    )


def test_send_routes_to_lanes_only_when_ready() -> None:
    core = SessionCore("s1", now=0.0)
    partial = Partial(utterance=1, revision=0, text="hel")
    with pytest.raises(RuntimeError):
        core.send(partial)
    core.receive_frame(frame(type="hello"), now=0)
    (send,) = core.send(partial)
    assert isinstance(send, Send) and send.lane is Lane.TRANSCRIPT and decode_server(send.data) == partial
    core.shutdown()
    assert core.send(partial) == []


def test_transition_table_is_consistent() -> None:
    for (state, name), (handler, _next) in TRANSITIONS.items():
        assert callable(getattr(SessionCore, handler)), handler
        assert name.startswith("@") or name in CLIENT_TYPES
        assert state is not State.CLOSED
    ready_inputs = {name for (state, name) in TRANSITIONS if state is State.READY}
    assert set(CLIENT_TYPES) - {"hello"} <= ready_inputs


CLIENT_FRAMES = st.one_of(
    st.builds(lambda s, d: frame(type="audio", seq=s, data=d), st.integers(0, 20), st.binary(max_size=8)),
    st.builds(lambda t, f: frame(type="text", text=t, final=f), st.text(max_size=5), st.booleans()),
    st.sampled_from(
        [
            frame(type="hello"),
            frame(type="hello", versions=[9]),
            frame(type="ping", id=1),
            frame(type="cancel"),
            frame(type="audio_end"),
            frame(type="flow", played_ms=10),
            frame(type="configure", asr={"language": "en"}),
            frame(type="bye"),
            frame(type="nope"),
            b"\xc1",
            "text",
        ]
    ),
    st.binary(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CLIENT_FRAMES, st.floats(0, 0.02)), max_size=30), st.booleans())
def test_random_sessions_keep_the_invariants(steps: list[tuple[bytes | str, float]], lose: bool) -> None:
    core = SessionCore("s1", now=0.0)
    now = 0.0
    closed = False
    for payload, dt in steps:
        now += dt
        for out in core.receive_frame(payload, now) + core.tick(now):
            assert not closed, "nothing may follow a Close"
            if isinstance(out, Send):
                assert decode_server(out.data) == out.message
            elif isinstance(out, Close):
                closed = True
                assert core.state is State.CLOSING
        if closed:
            assert core.state is State.CLOSING
    if lose:
        core.connection_lost()
        assert core.state is State.CLOSED
