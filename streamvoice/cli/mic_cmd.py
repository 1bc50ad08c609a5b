"""`streamvoice mic`: live captions from the default microphone; `--agent echo` speaks finals back.

Without `--server`, an in-process server is started on 127.0.0.1 (port chosen by the system)
with the configured models, and the session connects to it like any other client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from websockets.exceptions import InvalidHandshake, InvalidURI

from streamvoice.config import Config

LIVE_QUEUE_S = 0.2  # --webrtc: microphone audio waiting for the track beyond this is dropped (clock drift)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("mic", help="live captions from the microphone (optionally spoken back)")
    parser.add_argument("--server", metavar="URL", help="WebSocket URL of a running server (default: start one here)")
    parser.add_argument("--language", default="auto", help="language code such as en, de; or auto (default)")
    parser.add_argument("--task", choices=("transcribe", "translate"), default="transcribe")
    parser.add_argument("--agent", choices=("echo",), help="echo: speak each final back; talking over it barges in")
    parser.add_argument("--voice", help="voice for --agent echo (default: the server's)")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)")
    parser.add_argument("--webrtc", action="store_true",
                        help="make a WebRTC call (microphone and speech on audio tracks) instead of a WebSocket "
                             "session; --server may then be the server's http:// URL")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from streamvoice.mic import AudioDeviceError, open_sounddevice

    try:
        sd = open_sounddevice(need_output=args.agent is not None)
    except AudioDeviceError as exc:
        print(f"streamvoice mic: {exc}", file=sys.stderr)
        return 4
    from streamvoice.client import ServerClosed

    try:
        return asyncio.run(_main(args, config, sd))
    except AudioDeviceError as exc:
        print(f"streamvoice mic: {exc}", file=sys.stderr)
        return 4
    except ServerClosed as exc:
        print(f"streamvoice mic: {exc}", file=sys.stderr)
        return 5
    except (OSError, TimeoutError, InvalidURI, InvalidHandshake) as exc:
        where = args.server or "the in-process server"
        print(f"streamvoice mic: cannot reach {where} ({exc or type(exc).__name__}): "
              "start one with `streamvoice serve` or check --server", file=sys.stderr)
        return 5


def _session_options(args: argparse.Namespace) -> dict[str, Any]:
    from streamvoice.protocol.options import AsrOptions, TtsOptions

    options: dict[str, Any] = {"asr": AsrOptions(language=args.language, task=args.task)}
    if args.voice:
        options["tts"] = TtsOptions(voice=args.voice)
    return options


@contextlib.asynccontextmanager
async def _server_url(args: argparse.Namespace, config: Config) -> AsyncIterator[str]:
    if args.server:
        yield args.server
        return
    from streamvoice.engine.engine import load_engine
    from streamvoice.server.app import Server
    from streamvoice.server.http import STREAM_PATH

    local = config.model_copy(update={"server": config.server.model_copy(update={"host": "127.0.0.1", "port": 0})})
    print("streamvoice mic: loading the models for an in-process server…", file=sys.stderr)
    loop = asyncio.get_running_loop()
    engine = await loop.run_in_executor(None, lambda: load_engine(local, tts=args.agent is not None))
    try:
        async with Server(local, engine) as server:
            yield f"ws://127.0.0.1:{server.port}{STREAM_PATH}"
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()


def _connect(args: argparse.Namespace, url: str) -> Any:
    """A WebSocket session, or with ``--webrtc`` a call (its microphone queue kept short: live audio)."""
    if not args.webrtc:
        from streamvoice.client import connect

        return connect(url, **_session_options(args))
    from streamvoice.client.rtc_audio import MicTrack
    from streamvoice.client.webrtc import connect as call

    return call(url, mic=MicTrack(max_queued_s=LIVE_QUEUE_S), **_session_options(args))


async def _main(args: argparse.Namespace, config: Config, sd: Any) -> int:
    from streamvoice.mic.captions import CaptionPrinter
    from streamvoice.mic.loop import MicLoop

    printer = CaptionPrinter(sys.stdout, live=sys.stdout.isatty())
    async with _server_url(args, config) as url, _connect(args, url) as session:
        print(f"streamvoice mic: listening (server {url}); Ctrl-C to stop", file=sys.stderr)
        loop = MicLoop(sd, session, printer, echo=args.agent == "echo")
        stats = await loop.run(args.duration)
    if stats.errors:
        return 1
    return 0
