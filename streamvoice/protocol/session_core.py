"""Sans-I/O session core: protocol state machine of one WebSocket session (server side).

No sockets, no clocks, no asyncio: the I/O layer feeds it frames (or decoded messages) with
the current monotonic time and carries out what it returns -- :class:`Send` and
:class:`Close` actions -- while the application reacts to the events (``SessionStarted``,
``TextReceived``, ...). Every method returns a list of outputs in the order they must be
handled.

States: ``CONNECTING`` (waiting for ``hello``) -> ``READY`` -> ``CLOSING`` (close sent, waiting
for the socket to go) -> ``CLOSED``.

Rules (the table :data:`TRANSITIONS` is the single source of truth):

1. An input is a client message type, or a local input: ``@timeout`` (hello deadline passed),
   ``@shutdown`` (server going away), ``@fail`` (server-side fatal error), ``@lost`` (socket
   gone).
2. ``(state, input)`` found in the table: run its handler; if it returns normally move to the
   table's next state.
3. A handler rejects the input by raising :class:`ProtocolError`: the core sends ``error``;
   if the error is fatal it also closes (close code from the error table) and moves to
   ``CLOSING``; otherwise the state is unchanged and the offending message is dropped.
4. A client message with no entry: in ``CONNECTING``/``READY`` it is a ``bad_state`` error
   (not fatal); in ``CLOSING``/``CLOSED`` it is ignored. A local input with no entry is ignored.
5. Frames that cannot be decoded are rejected as in rule 3 with the codec's error. Before
   decoding, every frame spends one token of a bucket refilled at ``max_messages_per_s``;
   a frame finding the bucket empty is dropped, and one ``rate_limited`` error is sent per
   episode (until a frame is accepted again).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Final

from streamvoice.protocol.base import SAMPLE_WIDTH
from streamvoice.protocol.codec import Frame, decode_client, encode
from streamvoice.protocol.errors import ERROR_TABLE, CloseCode, ErrorCode, ProtocolError
from streamvoice.protocol.messages import (
    Audio,
    AudioEnd,
    Bye,
    Cancel,
    ClientFlow,
    ClientMessage,
    Configure,
    ErrorMessage,
    ErrorRef,
    Hello,
    Ping,
    Pong,
    Ready,
    ServerMessage,
    Text,
    lane_for,
)
from streamvoice.protocol.options import AsrOptions, AudioFormat, AudioInputOptions, TtsOptions, merge_options
from streamvoice.protocol.policy import ServerPolicy, check_options
from streamvoice.protocol.session_events import (
    AudioEnded,
    AudioReceived,
    CancelRequested,
    ClientBye,
    Close,
    FlowReported,
    OptionsChanged,
    Output,
    Send,
    SessionClosed,
    SessionStarted,
    TextReceived,
)
from streamvoice.protocol.turns import TurnTracker


class State(Enum):
    """Session states."""

    CONNECTING = "connecting"
    READY = "ready"
    CLOSING = "closing"
    CLOSED = "closed"


C, R, G, D = State.CONNECTING, State.READY, State.CLOSING, State.CLOSED

#: (state, input) -> (handler method, next state when the handler succeeds).
TRANSITIONS: Final[dict[tuple[State, str], tuple[str, State]]] = {
    (C, "hello"): ("_on_hello", R),
    (C, "ping"): ("_on_ping", C),
    (C, "bye"): ("_on_bye", G),
    (C, "@timeout"): ("_on_timeout", G),
    (C, "@shutdown"): ("_on_shutdown", G),
    (C, "@fail"): ("_on_fail", G),
    (C, "@lost"): ("_on_lost", D),
    (R, "audio"): ("_on_audio", R),
    (R, "audio_end"): ("_on_audio_end", R),
    (R, "text"): ("_on_text", R),
    (R, "cancel"): ("_on_cancel", R),
    (R, "flow"): ("_on_flow", R),
    (R, "configure"): ("_on_configure", R),
    (R, "ping"): ("_on_ping", R),
    (R, "bye"): ("_on_bye", G),
    (R, "@shutdown"): ("_on_shutdown", G),
    (R, "@fail"): ("_on_fail", G),
    (R, "@lost"): ("_on_lost", D),
    (G, "@lost"): ("_on_lost", D),
}


class SessionCore:
    """Protocol state of one session. Not thread-safe; call from one task."""

    def __init__(self, session_id: str, now: float, policy: ServerPolicy | None = None) -> None:
        self.session_id = session_id
        self.policy = policy or ServerPolicy()
        self.state = State.CONNECTING
        self.version: int | None = None
        self.asr = AsrOptions()
        self.tts = TtsOptions()
        self.audio = AudioInputOptions()
        self._opened_at = now
        self._tokens = float(self.policy.limits.max_messages_per_s)
        self._tokens_at = now
        self._rate_notified = False
        self._last_audio_seq: int | None = None
        self._turns = TurnTracker()
        self._pending: tuple[ErrorCode, str] | None = None

    # --- inputs -----------------------------------------------------------------------

    def receive_frame(self, frame: Frame, now: float) -> list[Output]:
        """A WebSocket message arrived (``str`` for a text frame, bytes for binary)."""
        if self.state in (State.CLOSING, State.CLOSED):
            return []
        if not self._take_token(now):
            return [] if self._rate_notified else self._rate_error()
        self._rate_notified = False
        try:
            message = decode_client(frame, self.policy.limits)
        except ProtocolError as exc:
            return self._reject(exc)
        return self._dispatch(message.type, message)

    def tick(self, now: float) -> list[Output]:
        """Time passed; call at :meth:`next_deadline` (extra calls are harmless)."""
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            return self._dispatch("@timeout", None)
        return []

    def next_deadline(self) -> float | None:
        """Monotonic time at which :meth:`tick` has something to do, if any."""
        if self.state is State.CONNECTING:
            return self._opened_at + self.policy.hello_timeout_s
        return None

    def shutdown(self, reason: str = "server shutting down") -> list[Output]:
        """The server is going away: say ``bye`` and close with 1001."""
        self._pending = (ErrorCode.INTERNAL, reason)
        return self._dispatch("@shutdown", None)

    def fail(self, code: ErrorCode, message: str) -> list[Output]:
        """A server-side fatal condition (e.g. ``slow_consumer``, ``internal``): error, then close."""
        self._pending = (code, message)
        return self._dispatch("@fail", None)

    def connection_lost(self) -> list[Output]:
        """The socket is gone (closed by either side or broken)."""
        return self._dispatch("@lost", None)

    def send(self, message: ServerMessage) -> list[Output]:
        """Route an application message (transcripts, audio, flow) to its lane.

        Dropped (empty list) once closing; use :meth:`fail`/:meth:`shutdown` to end a session.
        """
        if self.state is State.CONNECTING:
            raise RuntimeError(f"cannot send {message.type!r} before the session is ready")
        if self.state is not State.READY:
            return []
        if message.type in ("tts_audio", "tts_done"):  # a turn the server opened (an agent's reply) takes its id
            self._turns.server_turn(message.turn)  # type: ignore[union-attr]
        return [self._send(message)]

    @property
    def output_format(self) -> AudioFormat:
        """Format of ``tts_audio`` data."""
        return AudioFormat(encoding=self.tts.encoding, sample_rate=self.tts.sample_rate, channels=1)

    # --- machinery --------------------------------------------------------------------

    def _dispatch(self, name: str, message: ClientMessage | None) -> list[Output]:
        rule = TRANSITIONS.get((self.state, name))
        if rule is None:
            if name.startswith("@") or self.state in (State.CLOSING, State.CLOSED):
                return []
            return self._reject(
                ProtocolError(
                    ErrorCode.BAD_STATE,
                    f"{name!r} is not allowed while {self.state.value}",
                    ref_type=name,
                    ref_seq=getattr(message, "seq", None),
                )
            )
        handler_name, next_state = rule
        handler: Callable[[ClientMessage | None], list[Output]] = getattr(self, handler_name)
        try:
            outputs = handler(message)
        except ProtocolError as exc:
            return self._reject(exc)
        self.state = next_state
        return outputs

    def _reject(self, exc: ProtocolError) -> list[Output]:
        ref = None
        if exc.ref_type is not None or exc.ref_seq is not None:
            ref = ErrorRef(type=exc.ref_type, seq=exc.ref_seq)
        out: list[Output] = [
            self._send(ErrorMessage(code=exc.code.value, message=exc.message, fatal=exc.fatal, ref=ref))
        ]
        if exc.fatal:
            out.append(Close(exc.close_code or CloseCode.PROTOCOL_ERROR, exc.code.value))
            self.state = State.CLOSING
        return out

    def _send(self, message: ServerMessage) -> Send:
        return Send(message, lane_for(message), encode(message))

    def _take_token(self, now: float) -> bool:
        rate = float(self.policy.limits.max_messages_per_s)
        elapsed = max(0.0, now - self._tokens_at)
        self._tokens = min(rate, self._tokens + elapsed * rate)
        self._tokens_at = max(self._tokens_at, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _rate_error(self) -> list[Output]:
        self._rate_notified = True
        limit = self.policy.limits.max_messages_per_s
        return self._reject(ProtocolError(ErrorCode.RATE_LIMITED, f"over {limit} messages/s; dropped"))

    # --- handlers (one per table entry; raise ProtocolError to reject) ------------------

    def _on_hello(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Hello)
        shared = set(message.versions) & set(self.policy.versions)
        if not shared:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                f"client speaks {message.versions}, server speaks {list(self.policy.versions)}",
                ref_type="hello",
            )
        if not self.policy.authorize(message.token):
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "missing or invalid token", ref_type="hello")
        asr = message.asr
        if self.policy.default_asr_model is not None and "model" not in asr.model_fields_set:
            asr = asr.model_copy(update={"model": self.policy.default_asr_model})
        check_options(self.policy, asr, message.tts, "hello")
        self.version = max(shared)
        self.asr, self.tts, self.audio = asr, message.tts, message.audio
        ready = Ready(
            session=self.session_id,
            version=self.version,
            limits=self.policy.limits,
            input_audio=AudioFormat(
                encoding=self.audio.encoding, sample_rate=self.audio.sample_rate, channels=self.audio.channels
            ),
            output_audio=self.output_format,
            asr=self.asr,
            tts=self.tts,
        )
        started = SessionStarted(self.session_id, self.version, message.token, self.asr, self.tts, self.audio)
        return [self._send(ready), started]

    def _on_ping(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Ping)
        return [self._send(Pong(id=message.id))]

    def _on_bye(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Bye)
        return [ClientBye(message.reason), self._send(Bye(reason="bye")), Close(CloseCode.NORMAL, "bye")]

    def _on_timeout(self, message: ClientMessage | None) -> list[Output]:
        raise ProtocolError(ErrorCode.TIMEOUT, f"no hello within {self.policy.hello_timeout_s:g} s")

    def _on_shutdown(self, message: ClientMessage | None) -> list[Output]:
        reason = self._pending[1] if self._pending else "server shutting down"
        return [self._send(Bye(reason=reason)), Close(CloseCode.GOING_AWAY, "going away")]

    def _on_fail(self, message: ClientMessage | None) -> list[Output]:
        code, text = self._pending or (ErrorCode.INTERNAL, "internal error")
        spec = ERROR_TABLE[code]
        error = ErrorMessage(code=code.value, message=text, fatal=True)
        return [self._send(error), Close(spec.close_code or CloseCode.INTERNAL_ERROR, code.value)]

    def _on_lost(self, message: ClientMessage | None) -> list[Output]:
        return [SessionClosed()]

    def _on_audio(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Audio)
        last = self._last_audio_seq
        if last is not None and message.seq <= last:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"audio.seq must increase: got {message.seq} after {last}",
                ref_type="audio",
                ref_seq=message.seq,
            )
        width = SAMPLE_WIDTH[self.audio.encoding] * self.audio.channels
        if len(message.data) % width:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"audio.data length {len(message.data)} is not a multiple of {width} bytes "
                f"({self.audio.encoding}, {self.audio.channels} channel(s))",
                ref_type="audio",
                ref_seq=message.seq,
            )
        self._last_audio_seq = message.seq
        return [AudioReceived(message.seq, message.data)]

    def _on_audio_end(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, AudioEnd)
        return [AudioEnded(message.seq)]

    def _on_text(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Text), "the transition table routes only text here"
        turn = self._turns.accept(message.turn, len(message.text), message.final, self.policy.limits.max_text_chars)
        return [TextReceived(turn, message.text, message.final)]

    def _on_cancel(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Cancel), "the transition table routes only cancel here"
        self._turns.cancel(message.turn)
        return [CancelRequested(message.turn)]

    def _on_flow(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, ClientFlow)
        return [FlowReported(message.turn, message.played_ms, message.buffered_ms)]

    def _on_configure(self, message: ClientMessage | None) -> list[Output]:
        assert isinstance(message, Configure)
        asr = merge_options(self.asr, message.asr)
        tts = merge_options(self.tts, message.tts)
        if (tts.sample_rate, tts.encoding) != (self.tts.sample_rate, self.tts.encoding):
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                "tts.sample_rate and tts.encoding are fixed by hello; open a new session to change them",
                ref_type="configure",
            )
        check_options(self.policy, asr, tts, "configure")
        self.asr, self.tts = asr, tts
        return [OptionsChanged(asr, tts)]
