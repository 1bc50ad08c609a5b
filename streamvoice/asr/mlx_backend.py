"""Whisper on MLX: Apple Silicon's engine (and NVIDIA's with ``mlx[cuda]``), the same streaming recipe.

The engine under :class:`~streamvoice.asr.window_decoder.WindowDecoder` for MLX: log-mel and
tokenizer from faster-whisper (the installed model's ``tokenizer.json``, so both backends decode
the same token ids), the transformer of :mod:`streamvoice.asr.mlx_whisper_model` in float32
(on Linux CPUs MLX's float16 never reaches BLAS and is slower), generation with a key/value cache
(:mod:`streamvoice.asr.mlx_generate`), language detection from the start-of-transcript logits,
and word times from the alignment heads' cross-attention (:mod:`streamvoice.asr.word_alignment`).
Weights come from the installed CTranslate2 model, converted on first load
(:mod:`streamvoice.models.mlx_whisper_convert`). Layer 2: synchronous.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.asr.whisper_rules import suppressed_tokens
from streamvoice.asr.window_decoder import Generation, WindowDecoder
from streamvoice.asr.word_alignment import alignment_matrix, dtw_path, words_from_path
from streamvoice.capabilities import Capabilities
from streamvoice.config import AsrConfig
from streamvoice.models.errors import ModelError
from streamvoice.models.mlx_blas import preload_openblas
from streamvoice.models.mlx_threads import ThreadStreams
from streamvoice.models.mlx_whisper_convert import convert_whisper, is_converted, load_converted

log = logging.getLogger(__name__)


class MlxEngine:
    """The :class:`~streamvoice.asr.window_decoder.WhisperEngine` of an MLX Whisper model."""

    def __init__(self, model: Any, hf_tokenizer: Any, alignment_heads: list[list[int]], lang_ids: list[int]) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor
        from faster_whisper.tokenizer import Tokenizer

        self._model = model  # streamvoice.asr.mlx_whisper_model.Whisper, float32
        self._hf = hf_tokenizer
        self._tokenizer_cls = Tokenizer
        self.multilingual = model.dims.n_vocab >= 51865
        self._features = FeatureExtractor(feature_size=model.dims.n_mels)
        self._heads = [(int(layer), int(head)) for layer, head in alignment_heads]
        self._lang_ids = lang_ids
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._rules: dict[int, Any] = {}

    def features(self, audio: np.ndarray) -> np.ndarray:
        return np.asarray(self._features(audio))

    def encode(self, mels: list[np.ndarray], frames: list[int], width: int) -> list[Any]:
        import mlx.core as mx

        batch = np.zeros((len(mels), width, mels[0].shape[0]), dtype=np.float32)
        for i, (m, n) in enumerate(zip(mels, frames, strict=True)):
            batch[i, : min(n, width)] = m[:, : min(n, width)].T
        encoded = self._model.encoder(mx.array(batch))
        mx.eval(encoded)
        return [encoded[i : i + 1] for i in range(len(mels))]

    def detect_language(self, encoded: Any) -> list[tuple[str, float]]:
        import mlx.core as mx

        sot = self._hf.token_to_id("<|startoftranscript|>")
        logits, _, _ = self._model.decoder(mx.array([[sot]]), self._model.decoder.cross_kv(encoded))
        scores = np.array(logits[0, -1].astype(mx.float32))[self._lang_ids]
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        return [(self._hf.id_to_token(i), float(p)) for i, p in zip(self._lang_ids, probs, strict=True)]

    def tokenizer(self, language: str, task: str) -> Any:
        key = (language, task)
        if key not in self._tokenizers:
            self._tokenizers[key] = self._tokenizer_cls(self._hf, self.multilingual, task=task, language=language)
        return self._tokenizers[key]

    def _search_rules(self, tok: Any) -> Any:
        from streamvoice.asr.mlx_generate import SearchRules

        key = id(tok)
        if key not in self._rules:
            n_vocab = self._model.dims.n_vocab
            banned = [*suppressed_tokens(tok), *range(tok.eot + 1, n_vocab)]  # no control token is text
            first = [*tok.encode(" "), tok.eot]
            no_speech = tok.no_speech
            self._rules[key] = SearchRules(tok.eot, np.array(sorted(set(banned))), np.array(first), no_speech)
        return self._rules[key]

    def generate(self, encoded: Any, prompt: list[int], tok: Any, beam: int, temperature: float,
                 max_length: int) -> Generation:
        from streamvoice.asr.mlx_generate import search

        n_prefix = len(prompt) - 1 - prompt.index(tok.no_timestamps)
        sot_index = prompt.index(tok.sot)
        out = search(self._model.decoder, self._model.decoder.cross_kv(encoded), prompt, sot_index,
                     self._search_rules(tok), beam, temperature, max_length)
        avg = out.sum_logprob / (len(out.tokens) + 1) if out.tokens else 0.0
        forced = prompt[len(prompt) - n_prefix :]
        return Generation([*forced, *out.tokens], float(avg), out.no_speech_prob)

    def align(self, tok: Any, tokens: list[int], encoded: Any, num_frames: int) -> list[dict[str, Any]]:
        """Forced decode of the decode's start + ``tokens`` + end-of-text; the alignment heads'
        attention over the audio's frames, DTW, and word boundaries."""
        import mlx.core as mx

        sequence = [*tok.sot_sequence, tok.no_timestamps, *tokens, tok.eot]
        logits, _, qks = self._model.decoder(mx.array([sequence]), self._model.decoder.cross_kv(encoded),
                                             weights=True)
        start = len(tok.sot_sequence)  # <|notimestamps|>: the query that predicts the first text token
        rows = slice(start, start + len(tokens) + 1)
        frames = max(1, min(num_frames // 2, int(encoded.shape[1])))
        heads = np.stack([np.array(qks[layer][0, head, rows, :frames].astype(mx.float32))  # type: ignore[index]
                          for layer, head in self._heads])
        heads = np.exp(heads - heads.max(axis=-1, keepdims=True))
        heads /= heads.sum(axis=-1, keepdims=True)
        token_index, frame_index = dtw_path(-alignment_matrix(heads))
        logp = np.array(logits[0, rows].astype(mx.float32))
        logp = logp - logp.max(axis=-1, keepdims=True)
        probs = np.exp(logp) / np.exp(logp).sum(axis=-1, keepdims=True)
        token_probs = probs[np.arange(len(tokens)), tokens] if tokens else np.zeros(0)
        return words_from_path(tok, tokens, token_index, frame_index, token_probs)


class MlxBackend:
    """A loaded MLX Whisper model; ``decode`` is called from one worker thread at a time."""

    name = "mlx"

    def __init__(self, engine: MlxEngine, beam_size: int = 1, adaptive_window: bool = True,
                 partial_beam_size: int | None = None) -> None:
        self._engine = engine
        self.multilingual = engine.multilingual
        self._decoder = WindowDecoder(engine, beam_size, adaptive_window, partial_beam_size)
        self._streams = ThreadStreams()

    @property
    def capabilities(self) -> Capabilities:
        """16 kHz in, word times by alignment; an English-only model hears only English."""
        return Capabilities(sample_rate=16_000, word_timings=True, languages=() if self.multilingual else ("en",))

    def decode(self, request: DecodeRequest) -> DecodeResult:
        return self.decode_batch([request])[0]

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        import mlx.core as mx

        with mx.stream(self._streams.current()):  # the calling thread's own (see ``mlx_threads``)
            return self._decoder.decode_batch(requests)

    def release_thread(self) -> None:
        """The calling thread is done with this backend: free its MLX streams (see ``mlx_threads``)."""
        self._streams.release()


def load_mlx_backend(model_dir: Path, asr_config: AsrConfig, adaptive_window: bool | None = None) -> MlxBackend:
    """Load an installed Whisper model on MLX, converting its CTranslate2 weights on first use.

    Converting is a one-off of a few seconds (``streamvoice models convert NAME --to mlx`` does
    the same ahead of time); a model store that cannot be written says to run that command."""
    preload_openblas(asr_config.threads or (os.cpu_count() or 1))
    try:
        import mlx.core as mx
        from tokenizers import Tokenizer as HfTokenizer

        from streamvoice.asr.mlx_whisper_model import Whisper, WhisperDims
    except ImportError as exc:
        raise ModelError(
            "the MLX ASR backend needs mlx (and faster-whisper for features and tokenizer): "
            "pip install 'streamvoice[asr,mlx]'"
        ) from exc
    if not is_converted(model_dir):
        log.info("converting %s to MLX weights (once)", model_dir.name)
        try:
            convert_whisper(model_dir)
        except ModelError as exc:
            raise ModelError(f"{exc}; or run `streamvoice models convert {model_dir.name} --to mlx`") from exc
    config, weights_path = load_converted(model_dir)
    dims = WhisperDims(**{k: int(v) for k, v in config.items() if k in WhisperDims.__dataclass_fields__})
    model = Whisper(dims)
    weights = mx.load(str(weights_path))
    model.load_weights([(name, value.astype(mx.float32)) for name, value in weights.items()])  # type: ignore[union-attr]
    mx.eval(model.parameters())
    engine = MlxEngine(model, HfTokenizer.from_file(str(model_dir / "tokenizer.json")),
                       list(config["alignment_heads"]), list(config["lang_ids"]))
    if adaptive_window is None:
        adaptive_window = asr_config.encoder_window == "adaptive"
    return MlxBackend(engine, beam_size=asr_config.beam_size, adaptive_window=adaptive_window,
                      partial_beam_size=asr_config.partial_beam_size)
