"""The server: one port, many sessions, an ordered and idempotent stop.

``Server(config, engine, registry)`` (prometheus_client; a registry per server unless given);
``await start()``; ``port``; ``await stop(timeout)``:
stop accepting -> every session flushes its finals and ends its turns -> close 1001 -> done.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
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
from streamvoice.server.http import HttpFace
from streamvoice.server.metrics import ServerMetrics
from streamvoice.server.oversize import frame_limit_connection

log = logging.getLogger(__name__)

WRITE_LIMIT = 256 * 1024  # bytes buffered in the WebSocket writer before send() waits
MAX_QUEUED_BYTES = 2 << 20  # ready.limits.max_queued_bytes: lanes + the writer's buffer, per session
SLOW_CONSUMER_LINGER_S = 60.0  # after slow_consumer + 4008, how long a late reader may still read them


class WsTransport:
    """Adapts a websockets connection to the wire session's byte :class:`Transport`."""

    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn

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
        self.sessions: dict[str, WireSession] = {}
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
        self.http = HttpFace(cfg, ready=self.ready, metrics=self.render_metrics, offer=self.offer)
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
            create_connection=frame_limit_connection(cfg.max_frame_bytes),  # error frame_too_large, then 1009
            compression=None,  # PCM does not compress; deflate costs a third of throughput
            write_limit=WRITE_LIMIT,
            max_queue=64,  # frames read ahead of the session (then TCP pushes back on the client)
            close_timeout=2.0,
            ping_interval=20.0,
            ping_timeout=20.0,
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
        header_auth = bool(getattr(conn, "streamvoice_header_auth", False))
        expected = cfg.token
        policy = ServerPolicy(
            limits=self.limits,
            authorize=lambda token: header_auth or token_ok(expected, token),
            voices=self.engine.voices,
            asr_models=self.engine.asr_models,
            default_asr_model=self.config.asr.model,
            hello_timeout_s=cfg.hello_timeout_s,
        )
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
