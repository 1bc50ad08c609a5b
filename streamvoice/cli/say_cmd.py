"""`streamvoice say`: speak text (or stdin as it streams) with Kokoro, in process.

With ``-`` every read from stdin is a text delta, so ``some_llm | streamvoice say -`` speaks
while the text still streams. Output: a WAV file, the sound card, and/or one JSON line per
frame batch. With ``--server URL`` the text goes to a running server and its audio comes back
over the socket (written with ``--out``).
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamvoice.config import Config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("say", help="speak text with Kokoro (use - to stream stdin)")
    parser.add_argument("text", nargs="?", default="-", help="text to speak, or - to read stdin incrementally")
    parser.add_argument("--voice", help="voice or blend, e.g. af_heart or 'af_heart:0.7,am_adam:0.3'")
    parser.add_argument("--speed", type=float, help="speaking rate, 0.5 to 2.0")
    parser.add_argument("--out", type=Path, help="write a 16-bit WAV file")
    parser.add_argument("--play", action="store_true", help="play through the default output device")
    parser.add_argument("--json", action="store_true", help="print one JSON object per audio batch, then done")
    parser.add_argument("--server", metavar="URL", help="speak through a running server, e.g. ws://127.0.0.1:8765/v1/stream")
    parser.add_argument("--token", help="the server's token, if it asks for one")
    parser.add_argument("--tts-backend", help="speech engine (streamvoice.tts.loader.TTS_BACKENDS; default auto)")
    parser.set_defaults(handler=run, config_overrides=_overrides)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (("voice", args.voice), ("speed", args.speed), ("backend", args.tts_backend))
    return {"tts": {k: v for k, v in pairs if v is not None}}


def read_stdin_deltas(stream: Any = None) -> Iterator[str]:
    """Each read of stdin that returns data is one delta (UTF-8 decoded incrementally)."""
    fd = (stream or sys.stdin).fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        data = os.read(fd, 4096)
        if not data:
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            return
        text = decoder.decode(data)
        if text:
            yield text


def run(args: argparse.Namespace, config: Config) -> int:
    if args.text != "-" and not any(ch.isalnum() for ch in args.text):
        print("streamvoice say: the text is empty or has nothing speakable; give words to say", file=sys.stderr)
        return 2
    if args.server:
        return _run_remote(args, config)
    player = _open_player() if args.play else None
    if args.play and player is None:
        return 4
    deltas: Any = read_stdin_deltas() if args.text == "-" else [args.text]
    wav = _open_wav(args.out) if args.out else None
    from streamvoice.tts.voices import UnknownVoiceError

    try:
        driver, batches = _batches(config, deltas)
        for batch in batches:
            pcm = b"".join(f.pcm for f in batch.frames)
            if wav is not None:
                wav.writeframes(pcm)
            if player is not None:
                import numpy as np

                player.write(np.frombuffer(pcm, dtype="<i2"))
            if args.json:
                print(json.dumps(_batch_json(batch)), flush=True)
    except UnknownVoiceError as exc:
        print(f"streamvoice say: {exc}", file=sys.stderr)
        return 2
    finally:
        if wav is not None:
            wav.close()
        if player is not None:
            player.stop()
            player.close()
    stats = driver.stats
    if stats.audio_s <= 0:
        print("streamvoice say: no speakable text was received", file=sys.stderr)
        return 2
    if args.json:
        rtf = stats.rtf
        print(json.dumps({"type": "done", "ttfa_s": _r(stats.ttfa_s), "rtf": _r(rtf), "audio_s": _r(stats.audio_s)}))
    elif not args.out and not args.play:
        print(f"spoke {stats.audio_s:.2f} s of audio (ttfa {stats.ttfa_s:.3f} s, rtf {stats.rtf:.2f}); "
              "add --out FILE.wav, --play or --json", file=sys.stderr)
    return 0


def _run_remote(args: argparse.Namespace, config: Config) -> int:
    """Through a server: the remote client writes the WAV; --play is for the in-process path."""
    import asyncio

    from streamvoice.cli.remote import remote_say

    if args.play:
        print("streamvoice say: --play works in process only; with --server use --out FILE.wav", file=sys.stderr)
        return 2
    options = {"token": args.token, "voice": config.tts.voice, "speed": config.tts.speed}
    return asyncio.run(remote_say(args.server, args.text, options, args.out, args.json))


def _batches(config: Config, deltas: Any) -> tuple[Any, Iterator[Any]]:
    """The in-process source of frame batches (the server source will sit beside it)."""
    from streamvoice.tts.driver import SpeechDriver
    from streamvoice.tts.loader import load_tts_backend

    backend = load_tts_backend(config)
    driver = SpeechDriver(backend, backend.g2p(), config.tts.voice, config.tts.speed, config.tts.frame_ms)
    return driver, driver.speak(deltas)


def _batch_json(batch: Any) -> dict[str, Any]:
    first = batch.frames[0]
    return {
        "type": "audio",
        "seq": first.seq,
        "text": batch.text,
        "samples": sum(f.samples for f in batch.frames),
        "sample_rate": first.sample_rate,
        "audio_s": _r(batch.audio_s),
        "wall_s": _r(batch.wall_s),
        "words": [{"word": w.word, "start_s": w.start_s, "end_s": w.end_s} for f in batch.frames for w in f.words],
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _open_wav(path: Path) -> wave.Wave_write:
    handle = wave.open(str(path), "wb")  # noqa: SIM115 - closed by run() after streaming
    handle.setnchannels(1)
    handle.setsampwidth(2)
    handle.setframerate(24_000)
    return handle


def _open_player() -> Any:
    """A started 24 kHz int16 output stream, or None after a clear message when there is none."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        print(f"streamvoice say: --play needs sounddevice and PortAudio ({exc}); use --out FILE.wav",
              file=sys.stderr)
        return None
    try:
        sd.query_devices(kind="output")
        stream = sd.OutputStream(samplerate=24_000, channels=1, dtype="int16")
        stream.start()
    except Exception as exc:  # PortAudioError / ValueError when no output device exists
        print(f"streamvoice say: no audio output device ({exc}); use --out FILE.wav", file=sys.stderr)
        return None
    return stream
