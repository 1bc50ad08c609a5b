"""The two-model backend: which model decodes which request, and results in the requests' order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest, DecodeResult, Segment
from streamvoice.asr.two_model import TwoModelBackend
from streamvoice.capabilities import Capabilities


@dataclass
class _Model:
    """A backend that answers with its own name and remembers what it decoded."""

    name: str
    multilingual: bool
    parallel: int = 2
    seen: list[DecodeRequest] = field(default_factory=list)
    released: int = 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(sample_rate=16_000, word_timings=True, parallel=self.parallel)

    def decode(self, request: DecodeRequest) -> DecodeResult:
        return self.decode_batch([request])[0]

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        self.seen.extend(requests)
        return [DecodeResult((Segment(f"{self.name}:{r.utterance}", 0, 1, (), -0.1, 0.0, 1.0),), "en", 1.0, 0.0)
                for r in requests]

    def release_thread(self) -> None:
        self.released += 1


def _request(kind: str = "partial", language: str | None = "en", **changes: object) -> DecodeRequest:
    base = DecodeRequest(audio=np.zeros(1600, np.float32), offset_s=0.0, prompt="", language=language,
                         task="transcribe", word_timestamps=True, kind=kind)  # type: ignore[arg-type]
    return replace(base, **changes)  # type: ignore[arg-type]


def _pair(small_multilingual: bool = False) -> tuple[TwoModelBackend, _Model, _Model]:
    main, small = _Model("base", True), _Model("tiny", small_multilingual, parallel=1)
    return TwoModelBackend(main, small), main, small


def test_english_partials_go_to_the_small_model_finals_to_the_main() -> None:
    pair, main, small = _pair()
    assert pair.decode(_request("partial")).segments[0].text == "tiny:0"
    assert pair.decode(_request("final")).segments[0].text == "base:0"
    assert [r.kind for r in small.seen] == ["partial"] and [r.kind for r in main.seen] == ["final"]


def test_an_english_only_small_model_never_hears_other_languages_or_detections() -> None:
    pair, _, small = _pair()
    for request in (_request(language="es"), _request(language=None), _request(detect_language=True),
                    _request(language=None, quick_detection=True)):
        assert pair.decode(request).segments[0].text == "base:0", request
    assert small.seen == []
    multi, _, _ = _pair(small_multilingual=True)
    assert multi.decode(_request(language="es")).segments[0].text == "tiny:0"
    assert multi.decode(_request(language=None)).segments[0].text == "base:0"  # detection stays on the main


def test_a_mixed_batch_comes_back_in_the_requests_order() -> None:
    pair, main, small = _pair()
    kinds = ["final", "partial", "final", "partial", "partial"]
    batch = [_request(k, utterance=i) for i, k in enumerate(kinds)]
    texts = [r.segments[0].text for r in pair.decode_batch(batch)]
    assert texts == ["base:0", "tiny:1", "base:2", "tiny:3", "tiny:4"]
    assert len(main.seen) == 2 and len(small.seen) == 3  # one batch call each


def test_capabilities_are_the_main_models_with_the_smaller_parallelism_and_both_threads_released() -> None:
    pair, main, small = _pair()
    assert pair.capabilities.parallel == 1 and pair.capabilities.word_timings
    assert pair.multilingual and pair.name == "base"
    pair.release_thread()
    assert main.released == small.released == 1


def test_the_loader_pairs_every_session_model_with_one_shared_partial_model(monkeypatch: object) -> None:
    from streamvoice.asr import loader
    from streamvoice.config import load_config

    loaded: list[str] = []

    def load_one(config: object, model: str) -> _Model:
        loaded.append(model)
        return _Model(model, multilingual=not model.endswith(".en"))

    monkeypatch.setattr(loader, "_load_one", load_one)  # type: ignore[attr-defined]
    config = load_config(overrides={"asr": {"model": "whisper-base", "extra_models": ["whisper-small"],
                                            "partial_model": "whisper-tiny.en"}})
    backends = loader.load_asr_backends(config)
    assert sorted(loaded) == ["whisper-base", "whisper-small", "whisper-tiny.en"]  # the small one once
    pairs = [backends["whisper-base"], backends["whisper-small"]]
    assert all(isinstance(b, TwoModelBackend) for b in pairs)
    assert pairs[0].partial is pairs[1].partial  # type: ignore[union-attr]
    plain = loader.load_asr_backend(load_config(overrides={"asr": {"model": "whisper-base"}}))
    assert not isinstance(plain, TwoModelBackend)


@pytest.mark.models
def test_real_partials_on_tiny_en_and_finals_on_base_transcribe_a_clip(models_dir: Path, data_dir: Path,
                                                                       references: dict[str, str]) -> None:
    from streamvoice.asr.driver import chunked, run_stream
    from streamvoice.asr.events import Final, Partial
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.audio.wavio import read_audio
    from streamvoice.config import load_config
    from streamvoice.textnorm import wer

    config = load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"partial_model": "whisper-tiny.en"}})
    backend = load_asr_backend(config)
    assert isinstance(backend, TwoModelBackend)
    decoded: Counter[str] = Counter()
    for role in ("main", "partial"):
        model = getattr(backend, role)
        original = model.decode

        def counted(request: DecodeRequest, role: str = role, original: Any = original) -> DecodeResult:
            decoded[f"{request.kind} on {role}"] += 1
            return original(request)  # type: ignore[no-any-return]

        model.decode = counted
    audio, _ = read_audio(data_dir / "LJ001-0001.wav")
    stream = RecognizerStream(StreamOptions(language="en"))
    events = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]
    text = " ".join(e.text for e in events if isinstance(e, Final) and e.text)
    assert wer(references["LJ001-0001.wav"], text) < 0.15, text
    assert any(isinstance(e, Partial) and e.stable_text for e in events)  # tiny.en's partials commit words
    assert decoded["partial on partial"] >= 5 and decoded["final on main"] >= 1, decoded
    assert decoded["final on partial"] == 0 and decoded["partial on main"] == 0, decoded
