"""`streamvoice serve`: load the models, serve /v1/stream and the HTTP endpoints until SIGTERM/SIGINT.

On a signal: stop accepting, flush finals, end turns, close 1001 within
``server.shutdown_timeout_s``; then wait up to 10 s more for a model call still in flight (it
cannot be interrupted, and leaving under it aborted the process) before exiting anyway.
Prints ``listening on http://HOST:PORT`` to stderr once ready (with ``--port 0`` that line tells
the chosen port).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from streamvoice.config import Config

log = logging.getLogger("streamvoice.serve")
_MODEL_CALL_GRACE_S = 10.0  # after the sessions close, for the decode or synthesis still running


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="run the WebSocket server (/v1/stream, caption page, metrics)")
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--max-sessions", type=int, help="concurrent sessions before refusing with 1013")
    parser.add_argument("--token", help="require this token (prefer env STREAMVOICE_SERVER__TOKEN)")
    parser.add_argument("--allowed-origin", action="append", dest="allowed_origins",
                        help="browser Origin allowed (repeatable)")
    parser.add_argument("--asr-model", help="ASR model name (default from config)")
    parser.add_argument("--asr-extra-model", action="append", dest="asr_extra_models",
                        help="another ASR model to load, selectable per session by asr.model (repeatable)")
    parser.add_argument("--asr-backend", help="recognition engine (streamvoice.asr.loader.ASR_BACKENDS; default auto)")
    parser.add_argument("--tts-backend", help="speech engine (streamvoice.tts.loader.TTS_BACKENDS; default auto)")
    parser.add_argument("--no-tts", action="store_true", help="serve recognition only (no Kokoro)")
    parser.add_argument("--agent", help="who answers each final: none (default), echo, llm, or module:function")
    parser.add_argument("--llm-url", help="--agent llm: OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--llm-model", help="--agent llm: model name sent to the LLM server")
    parser.add_argument("--system-prompt", type=Path, help="--agent llm: file holding the system message")
    parser.add_argument("--fake-engine", action="store_true", help=argparse.SUPPRESS)  # tests/benchmarks only
    parser.set_defaults(
        handler=run,
        config_overrides=_overrides,
    )


def _overrides(a: argparse.Namespace) -> dict[str, dict[str, object]]:
    server = {
        "host": a.host, "port": a.port, "max_sessions": a.max_sessions, "token": a.token,
        "allowed_origins": tuple(a.allowed_origins) if a.allowed_origins else None,
    }
    asr = {"model": a.asr_model, "backend": a.asr_backend,
           "extra_models": tuple(a.asr_extra_models) if a.asr_extra_models else None}
    tts = {"backend": a.tts_backend}
    agent = {"kind": a.agent, "llm_url": a.llm_url, "llm_model": a.llm_model, "system_prompt_file": a.system_prompt}
    return {
        section: {k: v for k, v in values.items() if v is not None}
        for section, values in (("server", server), ("asr", asr), ("tts", tts), ("agent", agent))
    }


def _install_loop() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


async def serve(config: Config, *, fake: bool = False, tts: bool = True) -> int:
    from streamvoice.server.app import Server

    if fake:
        from streamvoice.engine.fake import FakeEngine

        engine: object = FakeEngine(asr_delay_s=0.01, tts_delay_s=0.01)
    else:
        from streamvoice.engine.engine import load_engine

        loop = asyncio.get_running_loop()
        engine = await loop.run_in_executor(None, lambda: load_engine(config, tts=tts))
    server = Server(config, engine)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        print(f"listening on http://{config.server.host}:{server.port}", file=sys.stderr, flush=True)
        await stop.wait()
        log.info("signal received: stopping (timeout %.1f s)", config.server.shutdown_timeout_s)
        await server.stop(config.server.shutdown_timeout_s)
    finally:
        close = getattr(engine, "close", None)
        if close is not None and close(_MODEL_CALL_GRACE_S) is False:
            # A model call is still running in a worker thread; returning would tear the C++
            # runtime down under it and abort the process. The sessions are flushed and closed.
            log.error("a model call was still running %.0f s after the sessions closed; exiting without it",
                      _MODEL_CALL_GRACE_S)
            logging.shutdown()
            sys.stderr.flush()
            os._exit(0)
    return 0


def run(args: argparse.Namespace, config: Config) -> int:
    from streamvoice.runtime.agents.factory import agent_factory

    try:
        agent_factory(config.agent)  # a bad --agent fails now, not at the first session
    except ValueError as exc:
        print(f"streamvoice serve: {exc}", file=sys.stderr)
        return 2
    loop_name = _install_loop()
    log.info("event loop: %s", loop_name)
    return asyncio.run(serve(config, fake=bool(args.fake_engine), tts=not args.no_tts))
