"""Whisper on CTranslate2: int8 on CPU, float16 on CUDA, one encoder pass per decode.

faster-whisper's ``transcribe`` encodes the window twice when the language is unknown (once to
detect, once to decode) and is built for long files. A streaming window needs one pass: log-mel
features, one encode, language detection on that encoder output when asked (restricted to the
stream's languages), one generation prompted with the text before the window and *forced to
start with the committed words inside it* (so the model continues after them instead of
re-transcribing them: nothing committed can come back twice), temperature fallback when the
result loops or guesses (:mod:`streamvoice.asr.fallback`), and word times by cross-attention
alignment on the same encoder output. faster-whisper supplies the feature extractor, tokenizer
and alignment; CTranslate2 runs the model. Layer 2: synchronous.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.asr import fallback
from streamvoice.asr.backend import DecodeRequest, DecodeResult, Segment
from streamvoice.asr.events import Word
from streamvoice.asr.language import SCREEN_PROBABILITY, UNSURE_DETECTION, rank_languages
from streamvoice.capabilities import Capabilities
from streamvoice.config import AsrConfig
from streamvoice.models.errors import ModelError

_PROMPT_TOKENS = 223  # Whisper's limit for previous-text context (half the 448-token window)
_PREPEND = "\"'“¿([{-"
_APPEND = "\"'.。,，!！?？:：”)]}、"


_FULL_FRAMES = 3000  # Whisper's 30 s window in 10 ms mel frames
_MARGIN_FRAMES = 100  # silence after the audio in an adaptive window (1 s)
_BUCKET_FRAMES = 200  # adaptive widths are multiples of 2 s (fewer shapes, steadier timing)


def encoder_frames(content_frames: int) -> int:
    """Adaptive encoder width: the audio plus a 1 s margin, rounded up to 2 s, at most 30 s."""
    need = content_frames + _MARGIN_FRAMES
    return min(_FULL_FRAMES, -(-need // _BUCKET_FRAMES) * _BUCKET_FRAMES)


def _max_new_tokens(seconds: float) -> int:
    """Bound generation by the audio length: fast speech is ~5 tokens/s, loops are unbounded."""
    return int(16 + 10 * seconds)


@dataclass(slots=True)
class _Window:
    """One request's audio features and its encoder output (adaptive or full width)."""

    mel: np.ndarray
    frames: int
    encoded: Any
    full: bool


class CTranslate2Backend:
    """A loaded Whisper model; ``decode`` is called from one worker thread at a time."""

    name = "ctranslate2"

    @property
    def capabilities(self) -> Capabilities:
        """16 kHz in, word times by alignment; an English-only model hears only English."""
        return Capabilities(sample_rate=16_000, word_timings=True, languages=() if self.multilingual else ("en",))

    def __init__(self, model: Any, beam_size: int = 1, adaptive_window: bool = True,
                 partial_beam_size: int | None = None) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self._fw = model  # faster_whisper.WhisperModel: features, tokenizer, alignment helpers
        self._ct2 = model.model  # ctranslate2.models.Whisper
        self._tokenizer_cls = Tokenizer
        self.multilingual = bool(self._ct2.is_multilingual)
        self.beam_size = beam_size  # finals
        self.partial_beam_size = beam_size if partial_beam_size is None else partial_beam_size
        # True: encode only the audio plus a margin (CTranslate2 accepts fewer than 3000 frames;
        # about 3x cheaper for a few seconds of audio). False: pad to Whisper's 30 s as trained.
        self.adaptive_window = adaptive_window
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._suppress: dict[tuple[str, str], list[int]] = {}

    def decode(self, request: DecodeRequest) -> DecodeResult:
        return self.decode_batch([request])[0]

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        """Encode the windows in one batch, then generate and align each.

        A request that needs language detection is encoded at Whisper's full 30 s width:
        detection on a shortened window is unreliable (clear English came out Nynorsk or Bengali
        at p 0.7-0.98 on the dev clips). Every other request uses the adaptive width, and falls
        back to the full width when its decode loops (see ``_generate``)."""
        if not requests:
            return []
        started = time.perf_counter()
        mels = [self._fw.feature_extractor(np.ascontiguousarray(r.audio, dtype=np.float32)) for r in requests]
        frames = [min(m.shape[-1], _FULL_FRAMES) for m in mels]
        detect = [r.language is None and self.multilingual for r in requests]
        full = [(d and not r.quick_detection) or not self.adaptive_window
                for d, r in zip(detect, requests, strict=True)]
        encoded: list[Any] = [None] * len(requests)
        for wide in (False, True):
            idx = [i for i in range(len(requests)) if full[i] == wide]
            if idx:
                width = _FULL_FRAMES if wide else encoder_frames(max(frames[i] for i in idx))
                batch = self._encode([mels[i] for i in idx], [frames[i] for i in idx], width)
                for k, i in enumerate(idx):
                    encoded[i] = self._slice(batch, k, len(idx))
        results = []
        for i, r in enumerate(requests):
            lang, prob = (r.language or "en") if self.multilingual else "en", 1.0
            candidates = rank_languages(self._ct2.detect_language(encoded[i])[0], r.languages) if detect[i] else []
            if candidates:
                lang, prob = candidates[0]
            window = _Window(mels[i], frames[i], encoded[i], full[i])
            if r.detect_language and r.language is not None and self.multilingual:
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
        quick, p = rank_languages(self._ct2.detect_language(window.encoded)[0], r.languages)[0]
        if quick == r.language or p < SCREEN_PROBABILITY:
            return r.language, 1.0
        return rank_languages(self._ct2.detect_language(self._full(window))[0], r.languages)[0]

    def _encode(self, mels: list[np.ndarray], frames: list[int], width: int) -> Any:
        import ctranslate2

        feats = []
        for m, n in zip(mels, frames, strict=True):
            padded = np.zeros((m.shape[0], width), dtype=np.float32)
            padded[:, : min(n, width)] = m[:, : min(n, width)]
            feats.append(padded)
        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack(feats)))
        return self._ct2.encode(batch, to_cpu=False)

    def _full(self, window: _Window) -> Any:
        """The window's encoder output at Whisper's full 30 s width (encoded once, on demand)."""
        if not window.full:
            window.encoded = self._encode([window.mel], [window.frames], _FULL_FRAMES)
            window.full = True
        return window.encoded

    @staticmethod
    def _even_alignment(tok: Any, tokens: list[int], num_frames: int) -> list[dict[str, Any]]:
        """Word times spread evenly over the audio when cross-attention alignment fails."""
        words, word_tokens = tok.split_to_word_tokens(tokens)
        span = max(num_frames, 1) / 100.0
        step = span / max(len(words), 1)
        return [
            {"word": w, "tokens": t, "start": i * step, "end": (i + 1) * step, "probability": 0.0}
            for i, (w, t) in enumerate(zip(words, word_tokens, strict=True))
        ]

    @staticmethod
    def _slice(encoded: Any, i: int, n: int) -> Any:
        if n == 1:
            return encoded
        import ctranslate2

        arr = np.asarray(encoded) if encoded.device == "cpu" else None
        if arr is None:  # GPU output: move once to the host for slicing (small: 1500 x d_model)
            arr = np.asarray(encoded.to_device(ctranslate2.Device.cpu))
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(arr[i : i + 1]))

    def _tokenizer(self, language: str, task: str) -> Any:
        key = (language, task)
        if key not in self._tokenizers:
            try:
                tok = self._tokenizer_cls(self._fw.hf_tokenizer, self.multilingual, task=task, language=language)
            except ValueError as exc:
                raise ValueError(f"unsupported language {language!r} for this Whisper model") from exc
            self._tokenizers[key] = tok
            suppress = set(tok.non_speech_tokens)
            for attr in ("transcribe", "translate", "sot", "sot_prev", "sot_lm", "no_speech"):
                value = getattr(tok, attr)
                if value is not None:
                    suppress.add(value)
            self._suppress[key] = sorted(suppress)
        return self._tokenizers[key]

    def _generate(self, r: DecodeRequest, window: _Window, language: str) -> Segment | None:
        """Decode with Whisper's fallback ladder (:func:`fallback.ladder`): beam search
        (``asr.beam_size``) on the window as encoded; if that loops or guesses, a final is redone
        at the full 30 s width, then hotter; a partial once hotter on its own window."""
        task = r.task if self.multilingual else "transcribe"
        tok = self._tokenizer(language, task)
        prompt: list[int] = []
        if r.prompt.strip():
            prompt = [tok.sot_prev, *tok.encode(" " + r.prompt.strip())[-_PROMPT_TOKENS:]]
        prefix = tok.encode(" " + r.prefix.strip()) if r.prefix.strip() else []
        prompt += [*tok.sot_sequence, tok.no_timestamps, *prefix]
        max_length = min(448, len(prompt) + _max_new_tokens(len(r.audio) / 16000.0))
        beam = self.beam_size if r.kind == "final" else self.partial_beam_size
        tried: list[tuple[fallback.Attempt, list[int], tuple[Word, ...]]] = []
        for temperature, wide in fallback.ladder(r.kind, window.full):
            encoded = self._full(window) if wide else window.encoded
            attempt, tokens = self._attempt(encoded, prompt, len(prefix), tok, language, task, beam,
                                            temperature, max_length)
            attempt = dataclasses.replace(attempt, prefix=r.prefix)
            words: tuple[Word, ...] = ()
            if attempt.text:  # times are evidence of a loop even when the caller wants none
                words = self._words(tok, tokens, len(prefix), encoded, window.frames, r.offset_s)
            attempt = fallback.with_timing(attempt, [(w.start_s, w.end_s) for w in words])
            if fallback.said_nothing(attempt, len(words)):  # every new word took no audio: nothing more was said
                attempt, words = dataclasses.replace(attempt, text="", collapsed_words=0), ()
            tried.append((attempt, tokens, words))
            if not fallback.needs_fallback(attempt):
                break
        keep = tried[-1][0] if not fallback.needs_fallback(tried[-1][0]) else fallback.best([a for a, _, _ in tried])
        attempt, _, words = next(t for t in tried if t[0] is keep)
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

    def _attempt(self, encoded: Any, prompt: list[int], n_prefix: int, tok: Any, language: str, task: str,
                 beam: int, temperature: float, max_length: int) -> tuple[fallback.Attempt, list[int]]:
        """One generation; returns its statistics (over the new text) and all text tokens."""
        options: dict[str, Any] = {"beam_size": beam}
        if temperature > 0:
            import ctranslate2

            ctranslate2.set_random_seed(1234)  # sampled fallbacks are repeatable run to run
            options = {"beam_size": 1, "sampling_topk": 0, "sampling_temperature": temperature}
        out = self._ct2.generate(
            encoded,
            [prompt],
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress[(language, task)],
            **options,
        )[0]
        tokens = [t for t in out.sequences_ids[0] if t < tok.eot]  # the prefix, then the new tokens
        new = tokens[n_prefix:]
        # CTranslate2 scores the generated tokens only (the forced prefix is part of the prompt)
        avg_logprob = out.scores[0] * len(new) / (len(new) + 1) if new else 0.0
        text = tok.decode(new).strip()
        return fallback.Attempt(text, float(avg_logprob), float(out.no_speech_prob), temperature), tokens

    def _words(self, tok: Any, tokens: list[int], n_prefix: int, encoded: Any, num_frames: int,
               offset: float) -> tuple[Word, ...]:
        """Times of the words after the prefix, aligned over prefix and new tokens together."""
        from faster_whisper.transcribe import merge_punctuations

        try:
            alignment = self._fw.find_alignment(tok, [tokens], encoded, num_frames)[0]
        except (IndexError, ValueError):  # degenerate alignment (e.g. a few frames): spread evenly
            alignment = self._even_alignment(tok, tokens, num_frames)
        first_new, position, carried = len(alignment), 0, []
        for i, a in enumerate(alignment):
            if position >= n_prefix:
                first_new = i
                break
            end = position + len(a["tokens"])
            if end > n_prefix:  # the decode continued the last committed word ("14" + "%,"): keep the rest
                rest = a["tokens"][n_prefix - position :]
                carried, first_new = [dict(a, word=tok.decode(rest), tokens=rest)], i + 1
                break
            position = end
        new = carried + alignment[first_new:]
        merge_punctuations(new, _PREPEND, _APPEND)
        return tuple(
            Word(
                word=a["word"].strip(),
                start_s=round(offset + float(a["start"]), 3),
                end_s=round(offset + float(a["end"]), 3),
                probability=float(a["probability"]),
            )
            for a in new
            if a["word"].strip()
        )


def load_ctranslate2_backend(
    model_dir: Path, asr_config: AsrConfig, adaptive_window: bool | None = None
) -> CTranslate2Backend:
    """Load a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json).

    Sets ``OMP_WAIT_POLICY=PASSIVE`` (unless the user set it) before CTranslate2 is first
    imported: spinning OpenMP threads made encoding 3-5x slower on a 2-core machine.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import ctranslate2
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelError(
            "the CTranslate2 ASR backend needs faster-whisper and ctranslate2: pip install 'streamvoice[asr]'"
        ) from exc
    device = asr_config.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = asr_config.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    threads = asr_config.threads or (os.cpu_count() or 1)
    if not (model_dir / "model.bin").is_file():
        raise ModelError(f"{model_dir} has no model.bin; reinstall with `streamvoice models install {model_dir.name}`")
    try:
        model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=threads, local_files_only=True
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"could not load Whisper model from {model_dir} on {device}/{compute_type}: {exc}") from exc
    if adaptive_window is None:
        adaptive_window = asr_config.encoder_window == "adaptive"
    return CTranslate2Backend(model, beam_size=asr_config.beam_size, adaptive_window=adaptive_window,
                              partial_beam_size=asr_config.partial_beam_size)
