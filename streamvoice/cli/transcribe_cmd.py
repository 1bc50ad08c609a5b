"""`streamvoice transcribe FILE`: stream a file through the recognizer, as a live client would.

``--speed 1`` feeds the file at real time and decodes whenever the model is free (what a live
user sees, latency included); ``--speed 0`` feeds it as fast as possible while deciding exactly as
a real-time run with instant compute would (for accuracy runs). ``--json`` prints one JSON object
per event; otherwise a live view rewrites the partial line in place and prints finals with times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from streamvoice.cli.event_lines import event_line
from streamvoice.config import Config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("transcribe", help="transcribe an audio file with streaming Whisper")
    parser.add_argument("file", type=Path, help="audio file: WAV at any rate/channels, or anything ffmpeg reads")
    parser.add_argument("--model", help="ASR model name (default from config: whisper-base)")
    parser.add_argument("--language", help="'auto' (detect, then hold the session's language) or a code: 'en'")
    parser.add_argument("--languages", help="with auto: detect only among these codes, e.g. en,es")
    parser.add_argument("--lock-language", action="store_true", help="once the language is settled, never switch it")
    parser.add_argument("--task", choices=["transcribe", "translate"], help="translate: any language to English")
    parser.add_argument("--speed", type=float, choices=[0.0, 1.0], default=1.0,
                        help="1 = real time (honest latency), 0 = as fast as possible with real-time decisions")
    parser.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    parser.add_argument("--no-partials", action="store_true", help="only speech start/end and finals")
    parser.add_argument("--full-window", action="store_true",
                        help="pad every decode to Whisper's 30 s window (slower; default encodes only the audio)")
    parser.add_argument("--server", metavar="URL", help="transcribe through a running server, e.g. ws://127.0.0.1:8765/v1/stream")
    parser.add_argument("--token", help="the server's token, if it asks for one")
    parser.add_argument("--asr-backend", help="recognition engine (streamvoice.asr.loader.ASR_BACKENDS; default auto)")
    parser.set_defaults(
        handler=run,
        config_overrides=_overrides,
    )


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    values = {"model": args.model, "language": args.language, "task": args.task, "backend": args.asr_backend,
              "encoder_window": "full" if args.full_window else None,
              "lock_language": True if args.lock_language else None,
              "languages": tuple(c.strip() for c in args.languages.split(",") if c.strip()) if args.languages else None}
    return {"asr": {k: v for k, v in values.items() if v is not None}}


def run(args: argparse.Namespace, config: Config) -> int:
    if args.server:
        import asyncio

        from streamvoice.cli.remote import remote_transcribe

        remote_options = {"token": args.token, "language": config.asr.language, "languages": config.asr.languages,
                          "lock_language": config.asr.lock_language, "realtime": args.speed > 0}
        return asyncio.run(remote_transcribe(args.server, args.file, remote_options, args.json))
    from streamvoice.asr.driver import run_stream
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.audio.wavio import AudioFileError, read_audio

    try:
        samples, rate = read_audio(args.file)
    except AudioFileError as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 2
    backend = load_asr_backend(config)
    try:
        options = StreamOptions.from_config(
            config.asr, multilingual=backend.multilingual, partials=not args.no_partials,
        )
    except ValueError as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 2
    stream = RecognizerStream(options, stream_id=str(args.file))
    view = None if args.json else LiveView(sys.stdout)
    for event, audio_s, wall_s in run_stream(stream, backend, live_chunks(samples, rate), realtime=args.speed > 0):
        if view is None:
            print(json.dumps(event_json(event, audio_s, wall_s), ensure_ascii=False), flush=True)
        else:
            view.show(event)
    if view is not None:
        view.close()
    return 0


def live_chunks(samples: Any, rate: int, chunk_ms: int = 20) -> Iterator[Any]:
    """Resample to 16 kHz chunk by chunk, as audio would arrive from a client."""
    from streamvoice.asr.backend import ASR_SAMPLE_RATE
    from streamvoice.audio.resample import Resampler

    resampler = Resampler(rate, ASR_SAMPLE_RATE)
    step = max(1, rate * chunk_ms // 1000)
    for i in range(0, len(samples), step):
        out = resampler.process(samples[i : i + step])
        if len(out):
            yield out
    tail = resampler.flush()
    if len(tail):
        yield tail


def event_json(event: Any, audio_s: float, wall_s: float) -> dict[str, Any]:
    """The CLI's JSON line for one in-process event (names as in the issue)."""
    from streamvoice.asr.events import Final, Partial, SpeechStarted

    if isinstance(event, Partial | Final):
        words = [(w.word, w.start_s, w.end_s, w.probability) for w in event.words]
        if isinstance(event, Partial):
            return event_line("partial", event.utterance, audio_s, wall_s, text=event.text,
                              stable_text=event.stable_text, revision=event.revision, words=words)
        return event_line("final", event.utterance, audio_s, wall_s, text=event.text, language=event.language,
                          language_probability=event.language_probability, start_s=event.start_s,
                          end_s=event.end_s, reason=event.reason, words=words)
    kind = "speech_start" if isinstance(event, SpeechStarted) else "speech_end"
    return event_line(kind, event.utterance, audio_s, wall_s, time_s=event.time_s)


class LiveView:
    """Terminal view: the partial line is rewritten in place; finals are printed with times."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.started = time.monotonic()

    def show(self, event: Any) -> None:
        from streamvoice.asr.events import Final, Partial

        if isinstance(event, Partial) and self.tty:
            tail = event.text[len(event.stable_text):]
            self.out.write(f"\r\x1b[2K… {event.stable_text}\x1b[2m{tail}\x1b[0m")
            self.out.flush()
        elif isinstance(event, Final) and event.text:
            if self.tty:
                self.out.write("\r\x1b[2K")
            self.out.write(f"[{event.start_s:7.2f} → {event.end_s:7.2f}] ({event.language}) {event.text}\n")
            self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K")
            self.out.flush()
