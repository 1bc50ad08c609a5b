"""Decoding streaming windows with any Whisper engine: the one-encode-per-decode recipe, shared.

A streaming window needs one encoder pass: log-mel features, one encode, language detection on
that encoder output when asked (restricted to the stream's languages), one generation prompted
with the text before the window and *forced to start with the committed words inside it* (so the
model continues after them instead of re-transcribing them: nothing committed can come back
twice), temperature fallback when the result loops or guesses (:mod:`streamvoice.asr.fallback`),
and word times by cross-attention alignment on the same encoder output. That recipe is the same
for every engine, so it lives here once; an engine (:class:`WhisperEngine`) only encodes, detects,
generates and aligns. Layer 2: synchronous.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from streamvoice.asr import fallback
from streamvoice.asr.backend import DecodeRequest, DecodeResult, Segment
from streamvoice.asr.events import Word
from streamvoice.asr.language import SCREEN_PROBABILITY, UNSURE_DETECTION, rank_languages
from streamvoice.asr.whisper_rules import FULL_FRAMES, encoder_frames, max_length, prompt_tokens
from streamvoice.asr.word_alignment import even_alignment, words_after_prefix


@dataclass(frozen=True, slots=True)
class Generation:
    """One generated sequence: the forced prefix, then the new text tokens (no end-of-text)."""

    tokens: list[int]
    avg_logprob: float  # over the new tokens and the end-of-text
    no_speech_prob: float


class WhisperEngine(Protocol):
    """What a Whisper runtime provides; ``encoded`` values are the engine's own (one window each)."""

    multilingual: bool

    def features(self, audio: np.ndarray) -> np.ndarray:
        """Log-mel (n_mels, frames) of 16 kHz float32 audio."""
        ...

    def encode(self, mels: list[np.ndarray], frames: list[int], width: int) -> list[Any]:
        """Encoder outputs of mels padded (or cut) to ``width`` frames, one per mel."""
        ...

    def detect_language(self, encoded: Any) -> list[tuple[str, float]]:
        """(language token such as ``<|en|>``, probability) for every language."""
        ...

    def tokenizer(self, language: str, task: str) -> Any:
        """A faster-whisper-style tokenizer for that language and task (ValueError if unknown)."""
        ...

    def generate(self, encoded: Any, prompt: list[int], tok: Any, beam: int, temperature: float,
                 max_length: int) -> Generation:
        """Decode after ``prompt`` (whose last tokens are the forced prefix)."""
        ...

    def align(self, tok: Any, tokens: list[int], encoded: Any, num_frames: int) -> list[dict[str, Any]]:
        """Word dicts (:func:`streamvoice.asr.word_alignment.words_from_path`) for ``tokens``."""
        ...


@dataclass(slots=True)
class _Window:
    """One request's audio features and its encoder output (adaptive or full width)."""

    mel: np.ndarray
    frames: int
    encoded: Any
    full: bool


class WindowDecoder:
    """Runs :class:`DecodeRequest` windows on an engine; one worker thread at a time."""

    def __init__(self, engine: WhisperEngine, beam_size: int = 1, adaptive_window: bool = True,
                 partial_beam_size: int | None = None) -> None:
        self.engine = engine
        self.beam_size = beam_size  # finals
        self.partial_beam_size = beam_size if partial_beam_size is None else partial_beam_size
        # True: encode only the audio plus a margin (about 3x cheaper for a few seconds of audio).
        # False: pad to Whisper's 30 s as trained.
        self.adaptive_window = adaptive_window

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        """Encode the windows in one batch, then generate and align each.

        A request that needs language detection is encoded at Whisper's full 30 s width:
        detection on a shortened window is unreliable (clear English came out Nynorsk or Bengali
        at p 0.7-0.98 on the dev clips). Every other request uses the adaptive width, and falls
        back to the full width when its decode loops (see ``_generate``)."""
        if not requests:
            return []
        started = time.perf_counter()
        multilingual = self.engine.multilingual
        mels = [self.engine.features(np.ascontiguousarray(r.audio, dtype=np.float32)) for r in requests]
        frames = [min(m.shape[-1], FULL_FRAMES) for m in mels]
        detect = [r.language is None and multilingual for r in requests]
        full = [(d and not r.quick_detection) or not self.adaptive_window
                for d, r in zip(detect, requests, strict=True)]
        encoded: list[Any] = [None] * len(requests)
        for wide in (False, True):
            idx = [i for i in range(len(requests)) if full[i] == wide]
            if idx:
                width = FULL_FRAMES if wide else encoder_frames(max(frames[i] for i in idx))
                outputs = self.engine.encode([mels[i] for i in idx], [frames[i] for i in idx], width)
                for k, i in enumerate(idx):
                    encoded[i] = outputs[k]
        results = []
        for i, r in enumerate(requests):
            lang, prob = (r.language or "en") if multilingual else "en", 1.0
            candidates = rank_languages(self.engine.detect_language(encoded[i]), r.languages) if detect[i] else []
            if candidates:
                lang, prob = candidates[0]
            window = _Window(mels[i], frames[i], encoded[i], full[i])
            if r.detect_language and r.language is not None and multilingual:
                lang, prob = self._check_language(r, window)
            seg = self._generate(r, window, r.language or lang)
            if len(candidates) > 1 and prob < UNSURE_DETECTION and seg is not None:
                # an unsure detection (accented English: Telugu 0.58): the transcript decides
                other_lang, other_prob = candidates[1]
                other = self._generate(r, window, other_lang)
                if other is not None and other.avg_logprob > seg.avg_logprob:
                    seg, lang, prob = other, other_lang, other_prob
            results.append(DecodeResult(segments=(seg,) if seg else (), language=lang,
                                        language_probability=prob, compute_s=0.0))
        elapsed = time.perf_counter() - started
        return [DecodeResult(x.segments, x.language, x.language_probability, elapsed / len(results))
                for x in results]

    def _check_language(self, r: DecodeRequest, window: _Window) -> tuple[str, float]:
        """Is this window in another language than the held one? A quick detection on the window
        as encoded screens (one decoder step); only a disagreement pays for the full-width
        detection that confirms it. Returns the held language (p 1.0) when nothing is confirmed."""
        assert r.language is not None  # only checks a held language
        quick, p = rank_languages(self.engine.detect_language(window.encoded), r.languages)[0]
        if quick == r.language or p < SCREEN_PROBABILITY:
            return r.language, 1.0
        return rank_languages(self.engine.detect_language(self._full(window)), r.languages)[0]

    def _full(self, window: _Window) -> Any:
        """The window's encoder output at Whisper's full 30 s width (encoded once, on demand)."""
        if not window.full:
            window.encoded = self.engine.encode([window.mel], [window.frames], FULL_FRAMES)[0]
            window.full = True
        return window.encoded

    def _generate(self, r: DecodeRequest, window: _Window, language: str) -> Segment | None:
        """Decode with Whisper's fallback ladder (:func:`fallback.ladder`): beam search
        (``asr.beam_size``) on the window as encoded; if that loops or guesses, a final is redone
        at the full 30 s width, then hotter; a partial once hotter on its own window."""
        task = r.task if self.engine.multilingual else "transcribe"
        try:
            tok = self.engine.tokenizer(language, task)
        except ValueError as exc:
            raise ValueError(f"unsupported language {language!r} for this Whisper model") from exc
        prompt, n_prefix = prompt_tokens(tok, r.prompt, r.prefix)
        limit = max_length(prompt, len(r.audio) / 16000.0)
        beam = self.beam_size if r.kind == "final" else self.partial_beam_size
        tried: list[tuple[fallback.Attempt, tuple[Word, ...]]] = []
        for temperature, wide in fallback.ladder(r.kind, window.full):
            encoded = self._full(window) if wide else window.encoded
            out = self.engine.generate(encoded, prompt, tok, 1 if temperature > 0 else beam, temperature, limit)
            text = tok.decode(out.tokens[n_prefix:]).strip()
            attempt = fallback.Attempt(text, out.avg_logprob, out.no_speech_prob, temperature, prefix=r.prefix)
            words: tuple[Word, ...] = ()
            if attempt.text:  # times are evidence of a loop even when the caller wants none
                words = self._words(tok, out.tokens, n_prefix, encoded, window.frames, r.offset_s)
            attempt = fallback.with_timing(attempt, [(w.start_s, w.end_s) for w in words])
            if fallback.said_nothing(attempt, len(words)):  # every new word took no audio: nothing more was said
                attempt, words = dataclasses.replace(attempt, text="", collapsed_words=0), ()
            tried.append((attempt, words))
            if not fallback.needs_fallback(attempt):
                break
        keep = tried[-1][0] if not fallback.needs_fallback(tried[-1][0]) else fallback.best([a for a, _ in tried])
        attempt, words = next(t for t in tried if t[0] is keep)
        if not attempt.text:
            return None
        end = r.offset_s + len(r.audio) / 16000.0
        return Segment(
            text=attempt.text,
            start_s=words[0].start_s if words else r.offset_s,
            end_s=words[-1].end_s if words else end,
            words=words if r.word_timestamps else (),
            avg_logprob=attempt.avg_logprob,
            no_speech_prob=attempt.no_speech_prob,
            compression_ratio=attempt.compression_ratio,
        )

    def _words(self, tok: Any, tokens: list[int], n_prefix: int, encoded: Any, num_frames: int,
               offset: float) -> tuple[Word, ...]:
        """Times of the words after the prefix, aligned over prefix and new tokens together."""
        try:
            alignment = self.engine.align(tok, tokens, encoded, num_frames) if tokens else []
        except (IndexError, ValueError):  # degenerate alignment (e.g. a few frames): spread evenly
            alignment = even_alignment(tok, tokens, num_frames)
        return words_after_prefix(tok, alignment, n_prefix, offset)
