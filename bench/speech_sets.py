"""The development speech for ASR benchmarks, and the scores that WER alone does not show.

- :func:`english_clips`: every English ``exact`` clip of ``../shared/data/speech`` with its folder.
- :func:`stress_streams`: clips of different speakers, edges trimmed, joined with 0.05-0.15 s gaps
  into long unpaused streams (no pause long enough to end an utterance), with the joined reference.
- :func:`foreign_script_words`, :func:`doubled_phrases`, :func:`repeated_word_count`: the error
  classes of streaming recognition that hide inside a WER figure (language flips into another
  script, a phrase emitted twice, a genuinely repeated word kept or deleted).
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
REPEATED_FOLDER = "repeated_words_fsdd"  # scored by the count of the repeated word, not by WER


@dataclass(frozen=True, slots=True)
class Clip:
    name: str  # path relative to the data folder (or a stress stream's name)
    folder: str  # first path component: the kind of speech
    reference: str
    duration_s: float
    path: Path | None = None  # None for a stream built in memory
    audio: np.ndarray | None = None  # set for built streams


def english_clips(data: Path) -> list[Clip]:
    """Every English clip whose reference is the corpus transcript (``exact``), manifest order."""
    with (data / "manifest.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Clip(r["file"], r["file"].split("/", 1)[0], r["reference_text"], float(r["duration_s"]), data / r["file"])
        for r in rows
        if r["language"] == "en" and r["reference_quality"] == "exact"
    ]


def load_clip(clip: Clip) -> np.ndarray:
    """16 kHz float32 mono samples of a clip."""
    if clip.audio is not None:
        return clip.audio
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio

    assert clip.path is not None  # every clip is a file or a built stream
    samples, rate = read_audio(clip.path)
    return samples if rate == RATE else resample(samples, rate, RATE)


def trim_silence(samples: np.ndarray, floor_db: float = -35.0) -> np.ndarray:
    """Cut leading and trailing audio quieter than ``floor_db`` below the clip's loudest 20 ms."""
    frame = RATE // 50
    n = len(samples) // frame
    if n == 0:
        return samples
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    level = 20 * np.log10(rms / rms.max())
    voiced = np.flatnonzero(level > floor_db)
    if voiced.size == 0:
        return samples
    start = max(0, voiced[0] - 2) * frame  # keep 40 ms around the voiced edges
    end = min(n, voiced[-1] + 3) * frame
    return samples[start:end]


def stress_streams(clips: list[Clip], per_stream: int = 12, seed: int = 7) -> list[Clip]:
    """Unpaused multi-speaker streams: consecutive groups of clips (sorted by name, so speakers
    differ), each trimmed and joined with 0.05-0.15 s gaps; references joined in order."""
    rng = random.Random(seed)
    ordered = sorted(clips, key=lambda c: c.name)
    streams = []
    for k in range(0, len(ordered) - per_stream // 2, per_stream):
        group = ordered[k : k + per_stream]
        parts: list[np.ndarray] = []
        for clip in group:
            if parts:
                parts.append(np.zeros(int(RATE * rng.uniform(0.05, 0.15)), dtype=np.float32))
            parts.append(trim_silence(load_clip(clip)).astype(np.float32))
        audio = np.concatenate([np.zeros(RATE // 4, np.float32), *parts, np.zeros(RATE // 2, np.float32)])
        streams.append(Clip(f"stress/{k // per_stream:02d} ({len(group)} clips)", "stress",
                            " ".join(c.reference for c in group), len(audio) / RATE, audio=audio))
    return streams


def foreign_script_words(text: str) -> int:
    """Words with a letter outside the Latin script (a flip into Chinese, Korean, Cyrillic …)."""
    count = 0
    for word in text.split():
        if any(ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in word):
            count += 1
    return count


def doubled_phrases(words: list[str], max_n: int = 30) -> Counter[str]:
    """Phrases (1..max_n normalised words) said twice back to back: "what's to be done what's to be done".

    Up to 30 words: a decoder loop repeats whole sentences (14 words on a stress stream, which a
    limit of 8 did not see)."""
    found: Counter[str] = Counter()
    for n in range(1, max_n + 1):
        for i in range(len(words) - 2 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n]:
                found[" ".join(words[i : i + n])] += 1
    return found


def extra_doubles(hypothesis: list[str], reference: list[str], peer: list[str]) -> list[str]:
    """Doubled phrases of ``hypothesis`` that neither the reference nor the peer doubles as often."""
    hyp, ref, other = doubled_phrases(hypothesis), doubled_phrases(reference), doubled_phrases(peer)
    return sorted(p for p, c in hyp.items() if c > max(ref[p], other[p]))


def repeated_word_count(reference_words: list[str], hypothesis_words: list[str]) -> tuple[str, int, int]:
    """(the repeated word, times in the reference, times in the hypothesis) for a repeated-word clip."""
    word, times = Counter(reference_words).most_common(1)[0]
    return word, times, sum(1 for w in hypothesis_words if w == word)
