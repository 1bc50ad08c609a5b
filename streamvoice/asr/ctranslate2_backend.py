"""Whisper on CTranslate2 through faster-whisper: int8 on CPU, float16 on CUDA.

Decoding is tuned for re-decoding short streaming windows: greedy or small beam, a single
temperature (no fallback re-runs: the stream's guard drops bad segments instead), no timestamp
tokens (word times come from cross-attention alignment), and faster-whisper's own VAD and
thresholds off, because our VAD and guard run around it. Layer 2: synchronous.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.asr.backend import DecodeRequest, DecodeResult, Segment
from streamvoice.asr.events import Word
from streamvoice.config import AsrConfig
from streamvoice.models.errors import ModelError


class CTranslate2Backend:
    """A loaded faster-whisper model; ``decode`` is called from one worker thread at a time."""

    name = "ctranslate2"

    def __init__(self, model: Any, beam_size: int = 1) -> None:
        self._model = model
        self.multilingual = bool(model.model.is_multilingual)
        self.beam_size = beam_size

    def decode(self, request: DecodeRequest) -> DecodeResult:
        started = time.perf_counter()
        audio = np.ascontiguousarray(request.audio, dtype=np.float32)
        language = request.language if self.multilingual else "en"
        task = request.task if self.multilingual else "transcribe"
        segments_iter, info = self._model.transcribe(
            audio,
            language=language,
            task=task,
            beam_size=self.beam_size,
            best_of=1,
            temperature=0.0,
            compression_ratio_threshold=None,
            log_prob_threshold=None,
            no_speech_threshold=None,
            condition_on_previous_text=False,
            initial_prompt=request.prompt or None,
            without_timestamps=True,
            word_timestamps=True,  # the stream needs word times to merge and commit
            vad_filter=False,
            hallucination_silence_threshold=None,
        )
        segments = tuple(self._segment(s, request.offset_s) for s in segments_iter)
        return DecodeResult(
            segments=segments,
            language=str(info.language),
            language_probability=float(info.language_probability if language is None else 1.0),
            compute_s=time.perf_counter() - started,
        )

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        return [self.decode(r) for r in requests]

    @staticmethod
    def _segment(seg: Any, offset_s: float) -> Segment:
        words = tuple(
            Word(
                word=w.word.strip(),
                start_s=round(offset_s + float(w.start), 3),
                end_s=round(offset_s + float(w.end), 3),
                probability=float(w.probability),
            )
            for w in (seg.words or ())
            if w.word.strip()
        )
        return Segment(
            text=seg.text.strip(),
            start_s=offset_s + float(seg.start),
            end_s=offset_s + float(seg.end),
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio),
        )


def load_ctranslate2_backend(model_dir: Path, asr_config: AsrConfig) -> CTranslate2Backend:
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
    return CTranslate2Backend(model, beam_size=asr_config.beam_size)
