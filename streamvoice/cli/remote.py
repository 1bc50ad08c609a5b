"""`transcribe --server URL` and `say --server URL`: the CLI's client side, over the Python client.

``options`` keys (all optional): ``token``, ``language``, ``languages``, ``lock_language`` (ASR),
``voice``, ``speed`` (TTS),
``realtime`` (stream the file at real time instead of as fast as the server takes it).
"""

from __future__ import annotations

import asyncio
import json
import sys
import wave
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.cli.event_lines import event_line
from streamvoice.client import ServerClosed, connect
from streamvoice.protocol import (
    AsrOptions,
    AudioInputOptions,
    ErrorMessage,
    Final,
    Partial,
    Speech,
    TtsAudio,
    TtsDone,
    TtsOptions,
)

CHUNK_S = 0.02
INPUT_RATE = AudioInputOptions().sample_rate  # the session's default input format (PROTOCOL 5.1.3)
IDLE_AFTER_END_S = 1.5  # after audio_end, every speech start has its final and nothing new came


async def remote_transcribe(url: str, path: str | Path, options: Mapping[str, Any], json_out: bool) -> int:
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio

    samples, rate = read_audio(Path(path))[:2]
    audio = np.asarray(samples, np.float32)
    if int(rate) != INPUT_RATE:
        audio = resample(audio, int(rate), INPUT_RATE)
    asr = AsrOptions(language=options.get("language") or "auto", languages=list(options.get("languages") or []),
                     lock_language=bool(options.get("lock_language")))
    try:
        async with connect(url, token=options.get("token"), asr=asr) as session:
            started = ended = 0
            finals: list[Final] = []
            sent = [0]  # samples sent so far, for each event's audio_s
            clock = asyncio.get_running_loop().time
            wall0 = clock()

            async def send() -> None:
                loop = asyncio.get_running_loop()
                t0 = loop.time()
                step = int(INPUT_RATE * CHUNK_S)
                for n, i in enumerate(range(0, len(audio), step)):
                    await session.send_audio(audio[i : i + step])
                    sent[0] = min(len(audio), i + step)
                    if options.get("realtime"):
                        await asyncio.sleep(max(0.0, t0 + (n + 1) * CHUNK_S - loop.time()))
                await session.end_audio()

            sender = asyncio.create_task(send())
            while True:
                try:
                    message = await session.recv(timeout=IDLE_AFTER_END_S if sender.done() else None)
                except TimeoutError:
                    if len(finals) >= started:
                        break
                    continue
                if json_out and isinstance(message, Speech | Partial | Final):
                    line = wire_event_json(message, sent[0] / INPUT_RATE, clock() - wall0)
                    sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                if isinstance(message, Speech):
                    started += message.event == "start"
                    ended += message.event == "end"
                elif isinstance(message, Final) and not message.eager:  # eager: tentative (PROTOCOL 6.4.1)
                    finals.append(message)
                    if not json_out:
                        print(message.text.strip(), flush=True)
                elif isinstance(message, ErrorMessage):
                    print(f"streamvoice: server error {message.code}: {message.message}", file=sys.stderr)
            await sender
    except ServerClosed as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"streamvoice: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    return 0


def wire_event_json(message: Speech | Partial | Final, audio_s: float, wall_s: float) -> dict[str, Any]:
    """The same JSON line as in-process `transcribe --json`, built from a server message."""
    if isinstance(message, Speech):
        kind = "speech_start" if message.event == "start" else "speech_end"
        return event_line(kind, message.utterance, audio_s, wall_s, time_s=message.time_s)
    words = [(w.word, w.start_s, w.end_s, w.probability) for w in message.words or []]
    if isinstance(message, Partial):
        return event_line("partial", message.utterance, audio_s, wall_s, text=message.text,
                          stable_text=message.stable_text, revision=message.revision, words=words)
    return event_line("final", message.utterance, audio_s, wall_s, text=message.text, language=message.language,
                      language_probability=message.language_probability, start_s=message.start_s,
                      end_s=message.end_s, words=words)


async def _stdin_lines() -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line


async def remote_say(
    url: str, text_or_stdin: str | None, options: Mapping[str, Any], out_path: str | Path | None, json_out: bool
) -> int:
    """Speak ``text_or_stdin`` (None or "-": read stdin as a stream) into a WAV file at ``out_path``."""
    tts = TtsOptions(voice=options.get("voice") or "af_heart", speed=float(options.get("speed") or 1.0))
    chunks: list[bytes] = []
    rate = tts.sample_rate
    status = "error"
    try:
        async with connect(url, token=options.get("token"), tts=tts, credits="instant") as session:
            if text_or_stdin is None or text_or_stdin == "-":
                turn_task = asyncio.create_task(session.say_stream(_stdin_lines()))
            else:
                turn_task = asyncio.create_task(session.say(text_or_stdin))
            while True:
                message = await session.recv()
                if isinstance(message, TtsAudio):
                    chunks.append(message.data)
                    rate = message.sample_rate
                    if json_out and message.words:
                        for word in message.words:
                            sys.stdout.write(json.dumps(word.model_dump(mode="json")) + "\n")
                elif isinstance(message, ErrorMessage):
                    print(f"streamvoice: server error {message.code}: {message.message}", file=sys.stderr)
                elif isinstance(message, TtsDone) and turn_task.done() and message.turn == turn_task.result():
                    status = message.status
                    break
    except ServerClosed as exc:
        print(f"streamvoice: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"streamvoice: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    pcm = b"".join(chunks)
    if out_path is not None:
        with wave.open(str(out_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm)
    print(f"{len(pcm) / 2 / rate:.2f} s of audio ({status})", file=sys.stderr)
    return 0 if status == "complete" else 1
