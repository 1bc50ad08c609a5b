"""The small interfaces every speech-synthesis engine implements (Kokoro on ONNX Runtime now).

A backend is synchronous and knows nothing of turns or sockets: one phonemized chunk, one voice,
one speed in; audio and word times out. It declares what it can do in :attr:`capabilities`
(:class:`~streamvoice.capabilities.Capabilities`) and names the :class:`G2P` it wants, so the
engine and the faces never name a model class. Called from the engine's worker thread (or the
CLI driver's), never from the event loop.
"""

from __future__ import annotations

from typing import Protocol

from streamvoice.capabilities import Capabilities
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult


class SynthesisAborted(RuntimeError):
    """A synthesis was abandoned through its :class:`AbortHandle` (a cancelled turn)."""


class AbortHandle(Protocol):
    """Lets another thread abandon one synthesis in progress (only from an ``abortable`` backend)."""

    def abort(self) -> None: ...


class G2P(Protocol):
    """Text to speakable chunks for one voice (its language picks the pronunciation rules)."""

    def phonemize(self, text: str, voice: str) -> list[PhonemizedChunk]:
        """Chunks of at most the backend's phoneme limit; ``ValueError`` when nothing is speakable."""
        ...


class TtsBackend(Protocol):
    """A loaded speech model. ``synthesize`` may be called from one thread at a time."""

    name: str  # the ``tts.backend`` value that loads it

    @property
    def capabilities(self) -> Capabilities: ...

    def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float = 1.0, abort: AbortHandle | None = None
    ) -> SynthesisResult:
        """Audio at ``capabilities.sample_rate``, word times relative to the chunk's start;
        raises :class:`SynthesisAborted` once ``abort`` was used."""
        ...

    def abort_handle(self) -> AbortHandle:
        """A fresh handle for one synthesis (``capabilities.abortable`` backends only)."""
        ...

    def validate_voice(self, voice: str) -> None:
        """Raise ``ValueError`` (with suggestions) for a voice or blend this backend cannot speak."""
        ...

    def g2p(self) -> G2P:
        """The text front end this model's inputs come from (one per engine or driver)."""
        ...
