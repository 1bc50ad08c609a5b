"""Kokoro voice styles: one file per voice, a row per phoneme count, blends by weight.

Each ``voices/<name>.bin`` is raw float32 shaped (510, 1, 256): row ``n`` is the style vector
Kokoro was trained to use for an utterance of ``n`` phonemes, so the row is picked per chunk.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_PHONEMES = 510
STYLE_DIM = 256

# First letter of a voice name -> language tag used across the TTS pipeline.
LANGUAGES = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "zh",
}
_ACCENTS = {"a": "American", "b": "British"}
_GENDERS = {"f": "female", "m": "male"}


class UnknownVoiceError(ValueError):
    """A voice name that is not installed; the message lists close matches and how to list all."""


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    name: str
    language: str  # e.g. "en-us"
    gender: str  # "female", "male" or "unknown"
    accent: str | None  # "American"/"British" for English voices


def parse_voice_spec(spec: str) -> tuple[tuple[str, float], ...]:
    """``"af_heart:0.7,am_adam:0.3"`` -> ((name, weight), ...) with weights summing to 1.

    A bare name has weight 1. Raises ValueError on malformed specs (empty names, bad or
    non-positive weights) so the caller can report exactly what was wrong.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("voice is empty; give a name such as 'af_heart' (see `streamvoice voices`)")
    parts: list[tuple[str, float]] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            raise ValueError(f"voice spec {spec!r} has an empty entry; use 'name' or 'name:weight,name:weight'")
        name, sep, weight_text = item.partition(":")
        name = name.strip()
        if not name:
            raise ValueError(f"voice spec {spec!r} has an entry without a name")
        weight = 1.0
        if sep:
            try:
                weight = float(weight_text)
            except ValueError:
                raise ValueError(f"voice weight {weight_text!r} in {spec!r} is not a number") from None
            if not np.isfinite(weight) or weight <= 0:
                raise ValueError(f"voice weight for {name!r} must be a positive number, got {weight_text!r}")
        parts.append((name, weight))
    total = sum(w for _, w in parts)
    merged: dict[str, float] = {}
    for name, weight in parts:
        merged[name] = merged.get(name, 0.0) + weight / total
    return tuple(merged.items())


def voice_info(name: str) -> VoiceInfo:
    """Language and gender from the name's prefix (``af_`` = American English, female)."""
    code = name[:1]
    gender = _GENDERS.get(name[1:2], "unknown")
    return VoiceInfo(name, LANGUAGES.get(code, "unknown"), gender, _ACCENTS.get(code))


def language_of_spec(spec: str) -> str:
    """The language of a voice spec: that of its heaviest voice (blends across languages keep the first)."""
    parts = parse_voice_spec(spec)
    name = max(parts, key=lambda p: p[1])[0]
    return voice_info(name).language


class VoiceBank:
    """The installed voices of one Kokoro model folder; styles are loaded lazily and cached."""

    def __init__(self, voices_dir: Path) -> None:
        self.voices_dir = Path(voices_dir)
        if not self.voices_dir.is_dir():
            raise FileNotFoundError(f"voice folder not found: {self.voices_dir}; run `streamvoice models install`")
        self._names = sorted(p.stem for p in self.voices_dir.glob("*.bin"))
        if not self._names:
            raise FileNotFoundError(f"no voices (*.bin) in {self.voices_dir}; run `streamvoice models install`")
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self._names)

    def info(self, name: str) -> VoiceInfo:
        self._check(name)
        return voice_info(name)

    def validate(self, spec: str) -> tuple[tuple[str, float], ...]:
        """Parse a spec and check every voice exists (UnknownVoiceError otherwise)."""
        parts = parse_voice_spec(spec)
        for name, _ in parts:
            self._check(name)
        return parts

    def style(self, spec: str, n_phonemes: int) -> np.ndarray:
        """The (1, 256) float32 style for a voice or blend at a chunk of ``n_phonemes``."""
        row = min(max(int(n_phonemes), 0), MAX_PHONEMES - 1)
        out = np.zeros((1, STYLE_DIM), dtype=np.float32)
        for name, weight in self.validate(spec):
            out += weight * self._table(name)[row]
        return out

    def _table(self, name: str) -> np.ndarray:
        with self._lock:
            table = self._cache.get(name)
            if table is None:
                raw = np.fromfile(self.voices_dir / f"{name}.bin", dtype=np.float32)
                if raw.size != MAX_PHONEMES * STYLE_DIM:
                    expected = MAX_PHONEMES * STYLE_DIM
                    raise ValueError(f"voice file {name}.bin has {raw.size} floats, expected {expected}")
                table = raw.reshape(MAX_PHONEMES, 1, STYLE_DIM)[:, 0, :]
                self._cache[name] = table
            return table

    def _check(self, name: str) -> None:
        if name in self._names:
            return
        close = difflib.get_close_matches(name, self._names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UnknownVoiceError(f"unknown voice {name!r}; {hint}run `streamvoice voices` to list the installed voices")
