"""One utterance's recognition state inside a stream, and its window rules (pure, plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamvoice.asr.agreement import LocalAgreement
from streamvoice.asr.events import Word


@dataclass(slots=True)
class EarlyFinal:
    """The final's decode started in the pause, before the end of speech is declared: it is the
    final if the utterance ends with this same speech end (``speech_end_s``, ``end_s``)."""

    speech_end_s: float
    end_s: float
    requested: bool = False
    words: list[Word] | None = None  # its result, once applied
    short: bool = False  # its words stop well before the speech did (see ``short_final``)


@dataclass(slots=True)
class Utterance:
    id: int
    start_s: float
    window_start_s: float
    decoded_until_s: float
    end_s: float | None = None  # set when speech ended or the utterance was cut
    speech_end_s: float | None = None  # the VAD's end of speech (None for a length cut)
    words_until_s: float | None = None  # a final's words may start up to here (None: no bound)
    reason: str = ""
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    revision: int = 0
    last_partial_text: str | None = None
    language: str | None = None
    language_probability: float = 0.0
    eager: str = ""  # eager end of turn: "" | "due" (silence long enough) | "tried" (unstable) | "sent"
    carry: tuple[Word, ...] | None = None  # the previous final's last words (None: not chosen yet)
    carry_context: str = ""  # the session's text before the carried words (the prompt)
    early: EarlyFinal | None = None  # the final's decode started in the pause (see ``EarlyFinal``)
    first_final: list[Word] | None = None  # a final decode that stopped short, awaiting its retry

    def cut_point(self, now: float) -> float:
        """Where a too-long utterance is cut: after its last committed word if that is recent
        (the words after it are heard again by the next utterance), else now."""
        committed = self.agreement.committed
        if committed and self.start_s + 1.0 < committed[-1].end_s and now - committed[-1].end_s < 5.0:
            return committed[-1].end_s
        return now

    def slide(self, now: float, window_s: float, overlap_s: float) -> None:
        """Keep the window within ``window_s``: restart it just before the committed end.

        If the committed words give no anchor that shortens the window enough (no agreement for
        a long stretch), the hypothesis up to the window's middle is committed as it stands.
        """
        if now - self.window_start_s <= window_s:
            return

        def anchor() -> float | None:
            committed = self.agreement.committed
            if not committed:
                return None
            a = committed[-1].end_s - overlap_s
            return a if self.window_start_s < a and now - a <= window_s else None

        start = anchor()
        if start is None:
            self.agreement.commit_until(now - window_s / 2)
            start = anchor()
        if start is None:  # never skip audio no decode has heard
            start = min(now - window_s / 2, self.decoded_until_s)
        self.window_start_s = max(self.window_start_s, start)
