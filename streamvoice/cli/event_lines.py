"""The one JSON line shape of `transcribe --json`, whether events come in process or from a server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WordTuple = tuple[str, float, float, float | None]  # word, start s, end s, probability


def event_line(
    kind: str,
    utterance: int,
    audio_s: float,
    wall_s: float,
    *,
    time_s: float | None = None,
    text: str | None = None,
    stable_text: str | None = None,
    revision: int | None = None,
    language: str | None = None,
    language_probability: float | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    reason: str | None = None,
    words: Iterable[WordTuple] | None = None,
) -> dict[str, Any]:
    """``kind`` is speech_start, speech_end, partial or final; fields that do not apply are left out."""
    out: dict[str, Any] = {"utterance": utterance, "type": kind}
    optional = {"time": time_s, "text": text, "stable_text": stable_text, "revision": revision,
                "language": language, "language_probability": language_probability,
                "start": start_s, "end": end_s, "reason": reason}
    out.update({k: v for k, v in optional.items() if v is not None})
    if words is not None:
        out["words"] = [
            {"word": w, "start": s, "end": e, "probability": None if p is None else round(p, 3)}
            for w, s, e, p in words
        ]
    out["audio_s"] = round(audio_s, 3)
    out["wall_s"] = round(wall_s, 3)
    return out
