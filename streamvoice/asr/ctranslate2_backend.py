"""Whisper on CTranslate2: int8 on CPU, float16 on CUDA, one encoder pass per decode.

faster-whisper's ``transcribe`` encodes the window twice when the language is unknown (once to
detect, once to decode) and is built for long files. A streaming window needs one pass: the
recipe is :class:`~streamvoice.asr.window_decoder.WindowDecoder`, shared with every engine; this
module is the CTranslate2 engine under it. faster-whisper supplies the feature extractor and
tokenizer, CTranslate2 runs the model (encode, detect, generate, align). Layer 2: synchronous.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.asr.whisper_rules import suppressed_tokens
from streamvoice.asr.window_decoder import Generation, WindowDecoder
from streamvoice.asr.word_alignment import MEDIAN_WIDTH, words_from_path
from streamvoice.capabilities import Capabilities
from streamvoice.config import AsrConfig
from streamvoice.models.errors import ModelError


class CTranslate2Engine:
    """The :class:`~streamvoice.asr.window_decoder.WhisperEngine` of a faster-whisper model."""

    def __init__(self, model: Any) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self._fw = model  # faster_whisper.WhisperModel: features and tokenizer
        self._ct2 = model.model  # ctranslate2.models.Whisper
        self._tokenizer_cls = Tokenizer
        self.multilingual = bool(self._ct2.is_multilingual)
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._suppress: dict[tuple[str, Any], list[int]] = {}

    def features(self, audio: np.ndarray) -> np.ndarray:
        return np.asarray(self._fw.feature_extractor(audio))

    def encode(self, mels: list[np.ndarray], frames: list[int], width: int) -> list[Any]:
        import ctranslate2

        feats = []
        for m, n in zip(mels, frames, strict=True):
            padded = np.zeros((m.shape[0], width), dtype=np.float32)
            padded[:, : min(n, width)] = m[:, : min(n, width)]
            feats.append(padded)
        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack(feats)))
        encoded = self._ct2.encode(batch, to_cpu=False)
        return [self._slice(encoded, i, len(mels)) for i in range(len(mels))]

    @staticmethod
    def _slice(encoded: Any, i: int, n: int) -> Any:
        if n == 1:
            return encoded
        import ctranslate2

        arr = np.asarray(encoded) if encoded.device == "cpu" else None
        if arr is None:  # GPU output: move once to the host for slicing (small: 1500 x d_model)
            arr = np.asarray(encoded.to_device(ctranslate2.Device.cpu))
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(arr[i : i + 1]))

    def detect_language(self, encoded: Any) -> list[tuple[str, float]]:
        return list(self._ct2.detect_language(encoded)[0])

    def tokenizer(self, language: str, task: str) -> Any:
        key = (language, task)
        if key not in self._tokenizers:
            tok = self._tokenizer_cls(self._fw.hf_tokenizer, self.multilingual, task=task, language=language)
            self._tokenizers[key] = tok
            self._suppress[(tok.language_code, tok.task)] = suppressed_tokens(tok)
        return self._tokenizers[key]

    def generate(self, encoded: Any, prompt: list[int], tok: Any, beam: int, temperature: float,
                 max_length: int) -> Generation:
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
            suppress_tokens=self._suppress[(tok.language_code, tok.task)],
            **options,
        )[0]
        tokens = [t for t in out.sequences_ids[0] if t < tok.eot]  # the prefix, then the new tokens
        n_new = len(tokens) - _forced_prefix(prompt, tok)
        # CTranslate2 scores the generated tokens only (the forced prefix is part of the prompt)
        avg_logprob = out.scores[0] * n_new / (n_new + 1) if n_new else 0.0
        return Generation(tokens, float(avg_logprob), float(out.no_speech_prob))

    def align(self, tok: Any, tokens: list[int], encoded: Any, num_frames: int) -> list[dict[str, Any]]:
        result = self._ct2.align(encoded, tok.sot_sequence, [tokens], num_frames,
                                 median_filter_width=MEDIAN_WIDTH)[0]
        path = np.array(result.alignments)
        return words_from_path(tok, tokens, path[:, 0], path[:, 1], np.asarray(result.text_token_probs))


def _forced_prefix(prompt: list[int], tok: Any) -> int:
    """How many of ``prompt``'s tokens follow ``<|notimestamps|>``: the forced prefix."""
    return len(prompt) - 1 - prompt.index(tok.no_timestamps)


class CTranslate2Backend:
    """A loaded Whisper model; ``decode`` may be called from ``parallel`` threads at once (CTranslate2
    replicas: ``num_workers``)."""

    name = "ctranslate2"

    def __init__(self, model: Any, beam_size: int = 1, adaptive_window: bool = True,
                 partial_beam_size: int | None = None, parallel: int = 1) -> None:
        self.parallel = parallel
        self._fw = model  # faster_whisper.WhisperModel (the offline baseline of bench.asr_wer uses it)
        self._engine = CTranslate2Engine(model)
        self.multilingual = self._engine.multilingual
        self._decoder = WindowDecoder(self._engine, beam_size, adaptive_window, partial_beam_size)

    @property
    def capabilities(self) -> Capabilities:
        """16 kHz in, word times by alignment; an English-only model hears only English."""
        return Capabilities(sample_rate=16_000, word_timings=True, languages=() if self.multilingual else ("en",),
                            parallel=self.parallel)

    @property
    def beam_size(self) -> int:
        return self._decoder.beam_size

    @property
    def adaptive_window(self) -> bool:
        return self._decoder.adaptive_window

    @adaptive_window.setter
    def adaptive_window(self, value: bool) -> None:
        self._decoder.adaptive_window = value

    def decode(self, request: DecodeRequest) -> DecodeResult:
        return self._decoder.decode_batch([request])[0]

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        return self._decoder.decode_batch(requests)


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
    cores = os.cpu_count() or 1
    if device == "cpu":  # one thread per decode, decodes side by side (see AsrConfig.threads)
        threads = asr_config.threads or 1
        parallel = asr_config.parallel_decodes or max(1, cores // threads)
    else:
        threads, parallel = asr_config.threads or cores, asr_config.parallel_decodes or 1
    if not (model_dir / "model.bin").is_file():
        raise ModelError(f"{model_dir} has no model.bin; reinstall with `streamvoice models install {model_dir.name}`")
    try:
        model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=threads, num_workers=parallel,
            local_files_only=True
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"could not load Whisper model from {model_dir} on {device}/{compute_type}: {exc}") from exc
    if adaptive_window is None:
        adaptive_window = asr_config.encoder_window == "adaptive"
    return CTranslate2Backend(model, beam_size=asr_config.beam_size, adaptive_window=adaptive_window,
                              partial_beam_size=asr_config.partial_beam_size, parallel=parallel)
