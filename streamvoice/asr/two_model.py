"""Two models behind one backend: a small one for partial decodes, the session's model for finals.

Why: partial decodes are most of a live stream's CPU (about 2 per audio second against 0.15
finals, ``bench.asr_cost``), so RealtimeSTT's recipe is to run them on a smaller model. Here the
partials also *commit* words (their stable prefix), and a final never rewrites committed words,
so the small model's accuracy reaches the transcript: ``asr.partial_model`` is off by default and
its price is measured by ``bench.asr_wer --partial-model`` and ``bench.asr_cost --partial-model``.

A partial goes to the small model only when that model can hear it: an English-only small model
takes a partial only once the stream's language is English, and never one that asks for language
detection or a check of the held language. Everything else, finals included, goes to the main
model. Layer 2: synchronous, like every backend.
"""

from __future__ import annotations

from dataclasses import replace

from streamvoice.asr.backend import AsrBackend, DecodeRequest, DecodeResult
from streamvoice.capabilities import Capabilities


class TwoModelBackend:
    """An :class:`~streamvoice.asr.backend.AsrBackend` that routes each request to one of two models."""

    def __init__(self, main: AsrBackend, partial: AsrBackend) -> None:
        self.main = main
        self.partial = partial
        self.name = main.name
        self.multilingual = main.multilingual

    @property
    def capabilities(self) -> Capabilities:
        """The main model's, with the calls both can run at once."""
        caps = self.main.capabilities
        return replace(caps, parallel=min(caps.parallel, self.partial.capabilities.parallel))

    def takes(self, request: DecodeRequest) -> bool:
        """Does this request go to the small model?"""
        if request.kind != "partial" or request.language is None or request.detect_language:
            return False
        return self.partial.multilingual or request.language == "en"

    def release_thread(self) -> None:
        """Let each model free what the ending worker thread holds (MLX streams; see the engine)."""
        for backend in (self.partial, self.main):
            release = getattr(backend, "release_thread", None)
            if release is not None:
                release()

    def decode(self, request: DecodeRequest) -> DecodeResult:
        return (self.partial if self.takes(request) else self.main).decode(request)

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        """Each model decodes its share in one batch; results come back in the requests' order."""
        to_small = [self.takes(r) for r in requests]
        small = [i for i, yes in enumerate(to_small) if yes]
        large = [i for i, yes in enumerate(to_small) if not yes]
        results: list[DecodeResult | None] = [None] * len(requests)
        for backend, idx in ((self.partial, small), (self.main, large)):
            if idx:
                for i, result in zip(idx, backend.decode_batch([requests[i] for i in idx]), strict=True):
                    results[i] = result
        return [r for r in results if r is not None]
