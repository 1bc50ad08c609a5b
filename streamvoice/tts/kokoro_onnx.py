"""Kokoro-82M through ONNX Runtime: phonemes + voice style + speed -> 24 kHz audio and word times.

The int8 graph exports only ``audio``; its duration predictor's rounded output
(``/encoder/Round_output_0``, frames of 600 samples per input token) is added as a second graph
output at load time, in memory, so each word's start and end come from the model itself rather
than being guessed from text length.

``graph`` picks the arithmetic: ``"int8"`` runs the installed dynamically quantized graph,
``"float"`` a float copy built in memory at load (:mod:`streamvoice.tts.dequantize`, about 2 s
more). ``"auto"`` is int8: measured with ``bench.tts_graph`` on this project's 2-core x86 machine
(AVX-512 VNNI), the float graph was no faster (see the benchmark's result file), and it needs
~3.5x the memory.

``tts.first_audio_window_ms`` > 0 (int8 graph only) loads the graph as its prosody and vocoder
parts instead of whole (:mod:`streamvoice.tts.first_window`): a chunk marked ``early_audio`` may
then be answered with its first window's audio and a ``rest`` chunk; other chunks run both parts
back to back, which gives the whole graph's samples exactly.

``tts.skip_silent_frames`` (on by default, int8 graph only) loads the two parts too, and vocodes
each chunk only over the frames that can sound (:mod:`streamvoice.tts.sound_frames`): the leading
pad's and the closing pause's silent frames come back as zeros without vocoder work. Back to back
in ``bench.tts_ttfa`` (8 replies per rate, 2 cores): first audio p50 0.63 -> 0.52 s at 15 words/s,
0.56 -> 0.46 s at 50 words/s; ``bench.tts_roundtrip`` heard the same words wrong streamed (4 of 520).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from streamvoice.tts.backend import G2P, SynthesisAborted
from streamvoice.tts.first_window import FirstWindowVocoder, Resume
from streamvoice.tts.kokoro_inputs import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    WARM_UP,
    check_speed,
    find_model_file,
    kokoro_capabilities,
    load_vocab,
    model_inputs,
    warm_up_voice,
    word_timings,
)
from streamvoice.tts.sound_frames import PAUSE_MARKS, sounding_span
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult, WordTiming
from streamvoice.tts.voices import VoiceBank

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "KokoroOnnx", "find_model_file", "load_kokoro", "word_timings"]

DURATIONS_TENSOR = "/encoder/Round_output_0"
GraphKind = Literal["auto", "int8", "float"]


class AbortHandle:
    """Lets another thread abandon one synthesis while ONNX Runtime is inside ``run``."""

    def __init__(self) -> None:
        import onnxruntime as ort

        self.run_options = ort.RunOptions()
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True
        self.run_options.terminate = True


class KokoroOnnx:
    """A loaded Kokoro session (a :class:`~streamvoice.tts.backend.TtsBackend`). Call ``synthesize``
    from one worker thread at a time."""

    name = "onnxruntime"
    sample_rate = SAMPLE_RATE

    def __init__(
        self, session: Any, vocab: dict[str, int], voices: VoiceBank, has_durations: bool, graph: str = "int8",
        split: FirstWindowVocoder | None = None, skip_silent: bool = False,
    ) -> None:
        self._session = session  # the whole graph; None when ``split`` holds its two parts instead
        self.split = split
        self.graph = graph  # "int8" or "float": which arithmetic the session runs
        self._vocab = vocab
        self.voices = voices
        self.has_durations = has_durations
        self._lock = threading.Lock()
        self.skip_silent = skip_silent and split is not None
        self._pause_ids = frozenset(vocab[mark] for mark in PAUSE_MARKS if mark in vocab)
        self.capabilities = kokoro_capabilities(voices, has_durations)

    def abort_handle(self) -> AbortHandle:
        """ONNX Runtime can terminate a run from another thread (``RunOptions.terminate``)."""
        return AbortHandle()

    def validate_voice(self, voice: str) -> None:
        self.voices.validate(voice)

    def g2p(self) -> G2P:
        from streamvoice.tts.g2p import VoiceG2P

        return VoiceG2P()

    def synthesize(
        self, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0, abort: Any = None
    ) -> SynthesisResult:
        """Audio for one phonemized chunk, with word timings relative to the chunk's start.

        With the split graph loaded, an ``early_audio`` chunk may come back as its first window
        only, with ``rest`` set; synthesizing that ``rest`` chunk gives the remainder."""
        if chunk.resume is not None:
            return self._rest(chunk, abort)
        check_speed(speed)
        feeds, positions = self.model_feeds(chunk, voice_spec, speed)
        started = time.perf_counter()
        rest: PhonemizedChunk | None = None
        with self._lock, _aborting(chunk, abort):
            options = abort.run_options if abort is not None else None
            if self.split is None:
                outputs = self._session.run(None, feeds, options)
                audio = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
                durations = np.asarray(outputs[1]).reshape(-1) if len(outputs) > 1 else None
                n_samples = audio.size
            else:
                prosody = self.split.prosody(feeds, options)
                durations, n_samples = prosody.durations, prosody.frames * FRAME_SAMPLES
                windows = self.split.plan(prosody) if chunk.early_audio else None
                if windows is None:
                    span = sounding_span(durations, self._ends_in_pause(feeds)) if self.skip_silent else None
                    audio = self.split.whole(prosody, feeds["style"], options, span)
                else:
                    audio, resume = self.split.head(prosody, feeds["style"], windows, options)
                    rest = PhonemizedChunk(chunk.text, chunk.phonemes, (), chunk.lang, resume=resume)
        compute_s = time.perf_counter() - started
        words: tuple[WordTiming, ...] = ()
        if self.has_durations and durations is not None:
            words = word_timings(chunk, positions, durations, n_samples)
        return SynthesisResult(audio=audio, sample_rate=SAMPLE_RATE, words=words, compute_s=compute_s, rest=rest)

    def _ends_in_pause(self, feeds: dict[str, np.ndarray]) -> bool:
        tokens = feeds["tokens"].reshape(-1)
        return tokens.size > 2 and int(tokens[-2]) in self._pause_ids

    def durations(self, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0) -> np.ndarray:
        """Frames per token (pads included) as the graph rounds them, before its floor of one frame
        (for checks and tests: the MLX engine's parity is measured against these)."""
        if not self.has_durations:
            raise RuntimeError("this Kokoro graph has no durations tensor")
        feeds, _ = self.model_feeds(chunk, voice_spec, speed)
        with self._lock:
            if self.split is not None:
                return np.asarray(self.split.prosody(feeds, None).durations).reshape(-1)
            return np.asarray(self._session.run([DURATIONS_TENSOR], feeds)[0]).reshape(-1)

    def _rest(self, chunk: PhonemizedChunk, abort: Any) -> SynthesisResult:
        """The remainder of a chunk whose first window was answered before."""
        if self.split is None or not isinstance(chunk.resume, Resume):
            raise ValueError("not a rest chunk of this backend")
        started = time.perf_counter()
        with self._lock, _aborting(chunk, abort):
            audio = self.split.rest(chunk.resume, abort.run_options if abort is not None else None)
        return SynthesisResult(audio=audio, sample_rate=SAMPLE_RATE, words=(), compute_s=time.perf_counter() - started)

    def model_feeds(
        self, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0
    ) -> tuple[dict[str, np.ndarray], list[int]]:
        """The graph's inputs (tokens with pads, style, speed) and each phoneme's token index."""
        return model_inputs(self._vocab, self.voices, chunk, voice_spec, speed)


@contextlib.contextmanager
def _aborting(chunk: PhonemizedChunk, abort: Any) -> Iterator[None]:
    """Raise :class:`SynthesisAborted` when ``abort`` was used before or during the runs inside."""
    if abort is not None and abort.aborted:
        raise SynthesisAborted("synthesis abandoned before it started")
    try:
        yield
    except Exception as exc:  # ORT raises a generic error when terminated
        if abort is not None and abort.aborted:
            raise SynthesisAborted("synthesis abandoned while running") from None
        raise RuntimeError(f"Kokoro inference failed for {chunk.text[:60]!r}: {exc}") from exc
    if abort is not None and abort.aborted:  # terminated between two runs of a split chunk
        raise SynthesisAborted("synthesis abandoned while running")


def session_options(tts_config: Any) -> Any:
    """ONNX Runtime options for Kokoro: ``tts.threads`` intra-op threads (0 = cores), no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = int(getattr(tts_config, "threads", 0) or 0) or (os.cpu_count() or 1)
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores: do not spin
    return options


def load_kokoro(model_dir: Path, tts_config: Any, warm_up: bool = True, graph: GraphKind = "auto") -> KokoroOnnx:
    """Load the ONNX graph (with the durations output added), vocabulary and voices.

    ``graph="float"`` dequantizes the int8 graph in memory first; "auto" keeps the int8 graph.
    """
    import onnx
    import onnxruntime as ort

    if graph not in ("auto", "int8", "float"):
        raise ValueError(f"graph must be 'auto', 'int8' or 'float', got {graph!r}")
    model_dir = Path(model_dir)
    model = onnx.load(str(find_model_file(model_dir)))
    produced = {out for node in model.graph.node for out in node.output}
    has_durations = DURATIONS_TENSOR in produced
    if has_durations and DURATIONS_TENSOR not in {o.name for o in model.graph.output}:
        info = onnx.ValueInfoProto()
        info.name = DURATIONS_TENSOR
        model.graph.output.append(info)
    kind = "int8"
    if graph == "float":
        from streamvoice.tts.dequantize import dequantize_model

        model, report = dequantize_model(model)
        if report.left_integer_ops:
            raise RuntimeError(f"float graph: {report.left_integer_ops} integer nodes had an unknown pattern")
        kind = "float"
    window_ms = int(getattr(tts_config, "first_audio_window_ms", 0) or 0)
    skip_silent = bool(getattr(tts_config, "skip_silent_frames", False)) and kind == "int8"
    session, split = None, None
    if (window_ms > 0 or skip_silent) and kind == "int8":
        from streamvoice.tts.vocoder_windows import load_windowed_vocoder

        min_head = max(1, round(window_ms * SAMPLE_RATE / 1000 / FRAME_SAMPLES)) if window_ms > 0 else 0  # 0: no head
        split = FirstWindowVocoder(load_windowed_vocoder(model, session_options(tts_config)), min_head)
    else:
        session = ort.InferenceSession(model.SerializeToString(), session_options(tts_config),
                                       providers=["CPUExecutionProvider"])
    del model  # the sessions hold their own copy; the float proto alone is ~330 MB
    _give_back_freed_memory()
    voices = VoiceBank(model_dir / "voices")
    kokoro = KokoroOnnx(session, load_vocab(model_dir), voices, has_durations, graph=kind, split=split,
                        skip_silent=skip_silent)
    if warm_up:  # the first run allocates arenas and is 2-3x slower; pay it at load, not on a user's turn
        voice = warm_up_voice(kokoro.voices, getattr(tts_config, "voice", "af_heart"))
        kokoro.synthesize(WARM_UP, voice, 1.0)
        if split is not None and window_ms > 0:  # the vocoder's pace here, past the first run: it sizes first windows
            split.pace.start()
            early = PhonemizedChunk(WARM_UP.text, "wˈɔɹm ˈʌp, " * 5, (), "en-us", early_audio=True)
            head = kokoro.synthesize(early, voice)
            if head.rest is not None:
                kokoro.synthesize(head.rest, voice)
            split.pace.stop()
    return kokoro


def _give_back_freed_memory() -> None:
    """Return the heap freed by the graph protos to the OS (glibc keeps it otherwise: ~130 MB of
    resident memory after a load that no longer holds anything). A no-op where there is no glibc."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def load_backend(config: Any) -> KokoroOnnx:
    """The ``tts.backend = onnxruntime`` entry of :mod:`streamvoice.tts.loader`."""
    from streamvoice.models import require

    return load_kokoro(require(config.models.dir, config.tts.model), config.tts)
