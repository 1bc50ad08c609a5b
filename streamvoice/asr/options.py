"""Per-stream recognition options: a frozen value built from the config and the client's request."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from streamvoice.config import AsrConfig


@dataclass(frozen=True, slots=True)
class StreamOptions:
    language: str = "auto"  # "auto" to detect per utterance, or an ISO code such as "en"
    task: Literal["transcribe", "translate"] = "transcribe"  # translate: any language -> English
    partials: bool = True  # emit partial hypotheses while the utterance is open
    word_timestamps: bool = True  # include words with times in Partial/Final events
    vad_aggressiveness: int = 2  # webrtcvad mode 0 (lenient) .. 3 (strict)
    vad_frame_ms: int = 30  # webrtcvad frame: 10, 20 or 30 ms
    end_of_speech_ms: int = 600  # silence that ends an utterance
    partial_interval_ms: int = 500  # new speech audio between partial re-decodes
    max_utterance_s: float = 30.0  # a longer utterance is finalised and a new one begins
    languages: tuple[str, ...] = ()  # with "auto": detect only among these ISO codes (empty: any)
    lock_language: bool = False  # once the session's language is settled, never switch it
    multilingual: bool = True  # the model knows many languages; False forces "en" and no translate
    window_s: float = 15.0  # longest audio re-decoded at once; beyond it the window slides
    overlap_s: float = 1.0  # audio before the committed end kept when the window slides
    committed_context_s: float = 3.0  # decodes start this long before the last committed word (0: the window)
    final_context_s: float = 10.0  # the same for a final's decode: it fixes the last words, and hears better with more
    hangover_ms: int = 200  # audio kept after the last voiced frame so word ends are not cut
    preroll_ms: int = 200  # audio kept before the first voiced frame so word starts are not cut
    commit_margin_ms: int = 500  # a word is committed only once this much audio follows it
    eager_ms: int = 0  # silence after which an eager final is offered (0, or >= end_of_speech_ms: never)
    final_lookahead_ms: int = 400  # the final's decode starts this long before the end of speech is due (0: at it)

    def __post_init__(self) -> None:
        if self.vad_frame_ms not in (10, 20, 30):
            raise ValueError(f"vad_frame_ms must be 10, 20 or 30, got {self.vad_frame_ms}")
        if not 0 <= self.vad_aggressiveness <= 3:
            raise ValueError(f"vad_aggressiveness must be 0..3, got {self.vad_aggressiveness}")
        if self.task not in ("transcribe", "translate"):
            raise ValueError(f"task must be 'transcribe' or 'translate', got {self.task!r}")
        if not 2.0 <= self.window_s <= 28.0:
            raise ValueError(f"window_s must be within 2..28 s (Whisper hears 30 s), got {self.window_s}")
        if not 0.0 <= self.overlap_s < self.window_s / 2:
            raise ValueError(f"overlap_s must be >= 0 and below half the window, got {self.overlap_s}")
        if self.end_of_speech_ms < 100 or self.partial_interval_ms < 50 or self.max_utterance_s < 1.0:
            raise ValueError("end_of_speech_ms >= 100, partial_interval_ms >= 50 and max_utterance_s >= 1")
        lang = self.language.strip().lower()
        if lang != "auto" and not (2 <= len(lang) <= 3 and lang.isalpha()):
            raise ValueError(f"language must be 'auto' or an ISO code such as 'en', got {self.language!r}")
        if not self.multilingual:  # English-only model: nothing else is possible
            object.__setattr__(self, "language", "en")
            object.__setattr__(self, "task", "transcribe")
        else:
            object.__setattr__(self, "language", lang)
        codes = tuple(dict.fromkeys(c.strip().lower() for c in self.languages))
        if any(not (2 <= len(c) <= 3 and c.isalpha()) for c in codes):
            raise ValueError(f"languages must be ISO codes such as 'en', got {list(self.languages)!r}")
        object.__setattr__(self, "languages", codes if self.multilingual else ())

    @classmethod
    def from_config(cls, asr_config: AsrConfig, **overrides: Any) -> StreamOptions:
        """Defaults from the ``asr`` config section; keyword overrides (None ignored) win."""
        base: dict[str, Any] = {
            "language": asr_config.language,
            "task": asr_config.task,
            "vad_aggressiveness": asr_config.vad_aggressiveness,
            "end_of_speech_ms": asr_config.end_of_speech_ms,
            "partial_interval_ms": asr_config.partial_interval_ms,
            "max_utterance_s": asr_config.max_utterance_s,
            "window_s": asr_config.window_s,
            "committed_context_s": asr_config.committed_context_s,
            "final_context_s": asr_config.final_context_s,
            "vad_frame_ms": asr_config.vad_frame_ms,
            "lock_language": asr_config.lock_language,
            "languages": tuple(asr_config.languages),
            "hangover_ms": asr_config.hangover_ms,
            "commit_margin_ms": asr_config.commit_margin_ms,
            "eager_ms": asr_config.eager_ms,
            "final_lookahead_ms": asr_config.final_lookahead_ms,
        }
        known = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if key not in known:
                raise TypeError(f"unknown stream option {key!r}; known: {', '.join(sorted(known))}")
            if value is not None:
                base[key] = value
        return cls(**base)

    def with_(self, **changes: Any) -> StreamOptions:
        return replace(self, **changes)
