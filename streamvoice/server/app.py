"""The server: one port, many sessions, an ordered and idempotent stop.

``Server(config, engine, registry)`` (prometheus_client; a registry per server unless given);
``await start()``; ``port``; ``await stop(timeout)``:
stop accepting -> every session flushes its finals and ends its turns -> close 1001 -> done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from typing import Any

from prometheus_client import CollectorRegistry
from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from streamvoice.config import Config
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import CloseCode, ErrorCode
from streamvoice.protocol.limits import Limits
from streamvoice.protocol.session_core import ServerPolicy
from streamvoice.runtime.wire import TransportClosed, WireSession
from streamvoice.server.auth import token_ok
from streamvoice.server.http import OFFER_PATH, HttpFace
from streamvoice.server.metrics import ServerMetrics
from streamvoice.server.oversize import frame_limit_connection
from streamvoice.webrtc.call import RtcCall
from streamvoice.webrtc.http_body import with_request_bodies
from streamvoice.webrtc.offer import MAX_OFFER_BYTES
from streamvoice.webrtc.signalling import answer_offer

log = logging.getLogger(__name__)

WRITE_LIMIT = 256 * 1024  # bytes buffered in the WebSocket writer before send() waits
MAX_QUEUED_BYTES = 2 << 20  # ready.limits.max_queued_bytes: lanes + the writer's buffer, per session
SLOW_CONSUMER_LINGER_S = 60.0  # after slow_consumer + 4008, how long a late reader may still read them
# SO_SNDBUF of a session's socket (Linux doubles it for its bookkeeping). Left to autotuning, the kernel
# grows it to megabytes (net.ipv4.tcp_wmem's 4 MiB here): a client that stops reading then absorbs
# a minute of real-time audio before the writer ever waits, so max_unread_ms never starts counting
# (issue 16: a 45 s stall, no slow_consumer). 64 KiB still carries 48 kHz float audio (192 kB/s) at
# a 300 ms round trip.
SEND_BUFFER_BYTES = 64 * 1024
# WebSocket keepalive: a ping every PING_INTERVAL_S; no pong within the timeout ends the connection
# (1011), which frees the sessions of dead peers. A live client that stops reading answers no ping
# either (the pong waits behind the audio it has not read), so the timeout must outlast the
# slow-consumer path (buffers filling, then max_unread_ms: ~25 s with the defaults), else it ends the
# connection first and the client never gets slow_consumer + 4008 (PROTOCOL 8.2). A slow consumer's
# connection stops its keepalive (WsTransport.send_last).
PING_INTERVAL_S = 20.0
KEEPALIVE_TIMEOUT_S = 60.0


def keepalive_timeout_s(slow_client_timeout_s: float) -> float:
    return max(KEEPALIVE_TIMEOUT_S, 3.0 * slow_client_timeout_s)


class WsTransport:
    """Adapts a websockets connection to the wire session's byte :class:`Transport`."""

    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn
        sock = conn.transport.get_extra_info("socket") if conn.transport is not None else None
        if sock is not None:  # bounded kernel buffering for a client that does not read (PROTOCOL §8.2)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    async def recv(self) -> bytes | str:
        try:
            return await self.conn.recv()
        except ConnectionClosed as exc:
            raise TransportClosed(str(exc)) from None

    async def send(self, data: bytes) -> None:
        try:
            await self.conn.send(data)
        except ConnectionClosed as exc:
            raise TransportClosed(str(exc)) from None

    async def close(self, code: int, reason: str) -> None:
        await self.conn.close(code, reason)

    def buffered(self) -> int:
        transport = self.conn.transport
        return 0 if transport is None else transport.get_write_buffer_size()

    async def send_last(self, data: bytes, code: int, reason: str, linger_s: float) -> None:
        """Queue ``data`` and the close behind what is unsent; give a late reader ``linger_s`` to read them."""
        self.conn.close_timeout = linger_s  # the closing handshake may wait for the late reader too
        keepalive = self.conn.keepalive_task  # its ping timeout would put 1011 in place of the 4008
        if keepalive is not None:
            keepalive.cancel()
        try:
            async with asyncio.timeout(linger_s):
                await self.conn.send(data)
                await self.conn.close(code, reason)
        except (TimeoutError, ConnectionClosed):
            self.abort()

    def abort(self) -> None:
        transport = self.conn.transport
        if transport is not None:
            transport.abort()


class Server:
    def __init__(self, config: Config, engine: SpeechEngine, registry: CollectorRegistry | None = None) -> None:
        self.config = config
        self.engine = engine
        self.metrics = ServerMetrics(registry, engine.queue_depths)  # a registry of its own unless given one
        self.sessions: dict[str, WireSession | RtcCall] = {}  # WebSocket sessions and WebRTC calls, one limit
        self._offers_pending = 0  # WebRTC offers being answered: they hold a session slot
        self._call_tasks: set[asyncio.Task[None]] = set()
        self._ws: WsServer | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None
        cfg = config.server
        self.limits = Limits(
            max_frame_bytes=cfg.max_frame_bytes, max_text_chars=cfg.max_text_chars,
            max_messages_per_s=cfg.max_messages_per_s, max_audio_lead_ms=cfg.max_audio_lead_ms,
            max_unread_ms=max(1, round(cfg.slow_client_timeout_s * 1000)), max_queued_bytes=MAX_QUEUED_BYTES,
        )
        self.slow_consumer_linger_s = SLOW_CONSUMER_LINGER_S  # tests shorten it
        self.http = HttpFace(cfg, ready=self.ready, metrics=self.render_metrics, offer=self.offer,
                             webrtc=self.webrtc_offer)
        self.warm = False  # every loaded model has run once (see Engine.warm_up)

    def ready(self) -> bool:
        """/readyz: serving, not stopping, and the models warm, so the first reply is not a cold one."""
        return self._ws is not None and not self._stopping and self.engine.asr_ready and self.warm

    def offer(self) -> dict[str, object]:
        """/v1/voices: the voices and ASR models sessions may choose (empty: any name is accepted)."""
        return {
            "voices": sorted(self.engine.voices or ()), "default_voice": self.config.tts.voice,
            "asr_models": sorted(self.engine.asr_models or ()), "default_asr_model": self.config.asr.model,
        }

    def render_metrics(self) -> str:
        self.metrics.sessions.set(len(self.sessions))
        return self.metrics.render()

    @property
    def port(self) -> int:
        if self._ws is None:
            raise RuntimeError("server not started")
        sock = next(iter(self._ws.sockets))
        return int(sock.getsockname()[1])

    async def start(self) -> None:
        cfg = self.config.server
        start = getattr(self.engine, "start", None)
        if start is not None:
            await start()
        self._ws = await serve(
            self._handle, cfg.host, cfg.port,
            process_request=self.http,
            max_size=cfg.max_frame_bytes,
            create_connection=with_request_bodies(  # error frame_too_large, then 1009; reads the WebRTC offer
                frame_limit_connection(cfg.max_frame_bytes), {OFFER_PATH}, MAX_OFFER_BYTES),
            compression=None,  # PCM does not compress; deflate costs a third of throughput
            write_limit=WRITE_LIMIT,
            max_queue=64,  # frames read ahead of the session (then TCP pushes back on the client)
            close_timeout=2.0,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=keepalive_timeout_s(cfg.slow_client_timeout_s),
            server_header="streamvoice",
        )
        log.info("listening on %s:%d", cfg.host, self.port)
        warm_up = getattr(self.engine, "warm_up", None)  # the fake engine has nothing to warm
        if warm_up is not None:
            await warm_up()
        self.warm = True

    async def _handle(self, conn: ServerConnection) -> None:
        cfg = self.config.server
        if self._stopping:
            await conn.close(CloseCode.GOING_AWAY, "going away")
            return
        if len(self.sessions) >= cfg.max_sessions:  # before any work for it
            self.metrics.refused.labels(reason="full").inc()
            await conn.close(CloseCode.TRY_AGAIN_LATER, ErrorCode.SERVER_BUSY.value)  # reason: the code (§10.2)
            return
        session_id = secrets.token_hex(6)
        policy = self._policy(bool(getattr(conn, "streamvoice_header_auth", False)))
        session = WireSession(session_id, WsTransport(conn), self.engine, self.config, policy, observer=self.metrics,
                              linger_s=self.slow_consumer_linger_s)
        self.sessions[session_id] = session
        self.metrics.sessions_total.inc()
        self.metrics.sessions.set(len(self.sessions))
        log.info("session %s: opened from %s", session_id, conn.remote_address[0] if conn.remote_address else "?")
        try:
            await session.run()
        except Exception:
            log.exception("session %s: crashed", session_id)
        finally:
            self.sessions.pop(session_id, None)
            self.metrics.sessions.set(len(self.sessions))
            log.info("session %s: closed", session_id)

    def _policy(self, header_auth: bool) -> ServerPolicy:
        """A session's protocol policy (the token is good if the Authorization header already was)."""
        cfg = self.config.server
        expected = cfg.token
        return ServerPolicy(
            limits=self.limits,
            authorize=lambda token: header_auth or token_ok(expected, token),
            voices=self.engine.voices,
            asr_models=self.engine.asr_models,
            default_asr_model=self.config.asr.model,
            hello_timeout_s=cfg.hello_timeout_s,
        )

    async def webrtc_offer(self, body: bytes | None, header_auth: bool) -> tuple[int, dict[str, object]]:
        """``POST /v1/webrtc/offer`` (PROTOCOL §13.1): the same admission limit as WebSocket sessions."""
        busy: dict[str, object] = {"error": {"code": ErrorCode.SERVER_BUSY.value,
                                             "message": "the server is at capacity; call again later"}}
        if self._stopping or len(self.sessions) + self._offers_pending >= self.config.server.max_sessions:
            self.metrics.refused.labels(reason="full").inc()
            return 503, busy
        session_id = secrets.token_hex(6)
        self._offers_pending += 1
        try:
            answer = await answer_offer(body, session_id=session_id, engine=self.engine, config=self.config,
                                        policy=self._policy(header_auth), observer=self.metrics)
        finally:
            self._offers_pending -= 1
        call = answer.call
        if call is None:
            return answer.status, answer.body
        self.sessions[session_id] = call
        self.metrics.sessions_total.inc()
        self.metrics.sessions.set(len(self.sessions))
        log.info("call %s: answered", session_id)
        task = asyncio.create_task(self._run_call(call), name=f"call-{session_id}")
        self._call_tasks.add(task)
        task.add_done_callback(self._call_tasks.discard)
        if self._stopping:  # stopped while gathering: the call ends at once, the client gets 503
            await call.shutdown(1.0)
            return 503, busy
        return answer.status, answer.body

    async def _run_call(self, call: RtcCall) -> None:
        try:
            await call.run()
        except Exception:
            log.exception("call %s: crashed", call.id)
        finally:
            self.sessions.pop(call.id, None)
            self.metrics.sessions.set(len(self.sessions))
            log.info("call %s: closed (%s)", call.id, call.hangup_reason or "ended")

    async def stop(self, timeout: float | None = None) -> None:
        """Idempotent; concurrent callers wait for the same stop."""
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self._stop(timeout or self.config.server.shutdown_timeout_s))
        await asyncio.shield(self._stop_task)

    async def _stop(self, timeout: float) -> None:
        self._stopping = True
        ws = self._ws
        if ws is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        ws.server.close()  # 1. stop accepting
        sessions = list(self.sessions.values())
        if sessions:  # 2-3. flush finals, end turns, bye + 1001
            await asyncio.gather(*(s.shutdown(max(0.2, timeout - 1.0)) for s in sessions), return_exceptions=True)
        if self._call_tasks:  # WebRTC calls close their peer connections
            _, late = await asyncio.wait(set(self._call_tasks), timeout=max(0.1, deadline - loop.time()))
            for task in late:
                task.cancel()
        ws.close(close_connections=True)  # 4. anything left
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                await ws.wait_closed()
        except TimeoutError:
            log.warning("connections still open at the shutdown deadline; abandoning them")
        log.info("stopped")

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
