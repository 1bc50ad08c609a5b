"""No self-hearing: tell the server's own voice, coming back through the microphone, from the user's.

Pure (no asyncio, no model): the session feeds it what it plays and where playback stands, the ASR
pipeline asks it about hypotheses. Two questions:

* :meth:`SelfHearing.active` — is a reply audible at this input time (or within ``tail_s`` after
  it)? Only then does the ASR pipeline hold an utterance back; elsewhere nothing changes.
* :meth:`SelfHearing.judge` — are these recognised words, for the most part, the reply's words
  played around that time, in order?

**One clock.** Everything is placed on the input-audio timeline: seconds of microphone audio the
ASR stream has received (its word times are on it). Reply words are known in turn time (the
``words`` of ``tts_audio``, ms from the turn's first sample). The mapping is an *anchor* per turn,
the input time at which turn time 0 was (or would have been) played:

* when the turn's first frame is sent, ``anchor = input time now``: the client is assumed to play
  on receipt, as the credit pacer assumes (PROTOCOL 8.1); a later frame sent after its time
  (synthesis fell behind, playback ran dry) moves it so that the frame plays on receipt;
* each client ``flow`` report moves it: ``anchor = input time at the report - played_ms`` (or
  ``sent_ms - buffered_ms``): the position the client says it has reached is heard now;
* a word is *placed* (its input time frozen) at the first report that says it has been played,
  so a client that pauses or stalls later does not move words already heard; words not yet played
  follow the latest anchor.

The microphone hears a word later than that estimate: network and device buffers, the acoustic
path, the audio chunking of both directions, and Whisper's word times are off by a few hundred ms
either way. The tolerance is asymmetric: a recognised word may match a reply word if it lies
between ``early_s`` before the reply word's start and ``delay_s`` after its end.

**The rule** (:meth:`judge`). The hypothesis and the nearby reply words are normalised
(:func:`~streamvoice.textnorm.normalize`) and aligned in order (longest common subsequence, where
two words match when they are alike in spelling — equal, a close edit ratio, or one a long prefix
of the other — *and* in time). A word that says again a reply word matched before it, in time,
counts as matched too (Whisper repeats the words of a window that ends mid-word). The last word
of a partial hypothesis (``open_end``) is provisional: its window may end inside a word, which
Whisper writes garbled ("Box B" for "Books be…", "and I did" for "and ide…", "calm" for "com…"),
so unmatched it counts neither way; the next partial says it whole. Then:

* ``USER`` when ``min_user_words`` or more consecutive hypothesis words match no reply word (real
  speech over the reply);
* else ``ECHO`` when at least one word matched and matched words are at least as many as the
  others (mostly the reply, ASR errors allowed);
* else ``UNSURE`` (too little to say); for a final hypothesis ``UNSURE`` resolves to ``USER`` when
  unmatched words outnumber matched ones and are ``min_user_words`` or more, else ``ECHO``: a
  single word over a reply is withheld (a garbled word of echo must not stop it; an empty final
  has nothing to say).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from streamvoice.textnorm import normalize

MAX_TURNS = 8  # reply turns remembered (older ones are long past any tail)
MAX_HYP_TOKENS = 256  # hypothesis tokens aligned (the latest ones); Whisper's window holds ~90 words
MAX_REPLY_TOKENS = 512  # reply tokens a hypothesis is aligned against


class Verdict(enum.Enum):
    ECHO = "echo"
    USER = "user"
    UNSURE = "unsure"


@dataclass(frozen=True, slots=True)
class HeardWord:
    """A recognised word on the input timeline (a word without timings gets its utterance's span)."""

    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    echo: tuple[bool, ...]  # per hypothesis word: it matched a reply word
    matched: int
    unmatched: int
    user_run: int  # longest run of consecutive unmatched words


@dataclass(slots=True)
class _Word:
    tokens: tuple[str, ...]
    start_ms: float
    end_ms: float
    placed_s: float | None = None  # input time of its start, once a report said it was played


@dataclass(slots=True)
class _Turn:
    id: int
    anchor_s: float  # input time of turn time 0 (latest estimate)
    words: list[_Word] = field(default_factory=list)
    sent_ms: float = 0.0
    ended: bool = False  # no more audio of it will be sent
    cut_ms: float | None = None  # cancelled: only this much was played

    @property
    def audible_ms(self) -> float:
        return self.sent_ms if self.cut_ms is None else min(self.sent_ms, self.cut_ms)

    def start_s(self, word: _Word) -> float:
        return word.placed_s if word.placed_s is not None else self.anchor_s + word.start_ms / 1000.0


def similar(a: str, b: str) -> bool:
    """Two normalised words that an ASR could confuse for one another (or split/merge)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 3:
        return False
    if min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.75


class SelfHearing:
    """What the session is playing, on the input timeline, and the echo rule (module docstring)."""

    def __init__(self, *, tail_s: float = 1.5, delay_s: float = 1.0, early_s: float = 0.5,
                 min_user_words: int = 2) -> None:
        self.tail_s = tail_s  # a reply stays audible this long after its last audio (room, buffers)
        self.delay_s = delay_s  # largest lateness of the echo behind the estimated playback
        self.early_s = early_s  # how early a recognised word may be (Whisper's timing, anchor error)
        self.min_user_words = max(1, min_user_words)
        self._turns: deque[_Turn] = deque(maxlen=MAX_TURNS)
        self._current: _Turn | None = None  # the turn whose audio was sent last

    # -- what is played -------------------------------------------------------------------------
    def audio_sent(self, turn: int, offset_ms: float, duration_ms: float,
                   words: Sequence[tuple[str, float, float]], input_s: float) -> None:
        """A frame of ``turn`` went to the client (``words``: text, start, end in turn ms)."""
        state = self._turn(turn)
        if state is None:
            state = _Turn(turn, anchor_s=input_s - offset_ms / 1000.0)
            self._turns.append(state)
        self._current = state
        due = input_s - offset_ms / 1000.0
        if due > state.anchor_s:  # sent after its time (synthesis fell behind): it plays on receipt
            for word in state.words:
                if word.placed_s is None and word.start_ms < offset_ms:
                    word.placed_s = state.anchor_s + word.start_ms / 1000.0  # already played on time
            state.anchor_s = due
        state.sent_ms = max(state.sent_ms, offset_ms + duration_ms)
        for text, start_ms, end_ms in words:
            tokens = tuple(normalize(text).split())
            if tokens:
                state.words.append(_Word(tokens, float(start_ms), float(max(end_ms, start_ms))))

    def played(self, turn: int | None, played_ms: float | None, buffered_ms: float | None,
               input_s: float) -> None:
        """A client ``flow`` report, received when the input timeline stood at ``input_s``."""
        state = self._current if turn is None else self._turn(turn)
        if state is None or state.cut_ms is not None:
            return
        if played_ms is None:
            if buffered_ms is None:
                return
            played_ms = max(0.0, state.sent_ms - buffered_ms)
        state.anchor_s = input_s - played_ms / 1000.0
        for word in state.words:
            if word.placed_s is None and word.start_ms <= played_ms:
                word.placed_s = state.anchor_s + word.start_ms / 1000.0

    def turn_done(self, turn: int, played_ms: float | None) -> None:
        """The turn ended; ``played_ms`` when it was cut (cancelled): later words were never heard."""
        state = self._turn(turn)
        if state is None:
            return
        state.ended = True
        if played_ms is not None:
            state.cut_ms = played_ms
            state.words = [w for w in state.words if w.start_ms < played_ms]

    def _turn(self, turn: int) -> _Turn | None:
        return next((t for t in self._turns if t.id == turn), None)

    # -- questions ------------------------------------------------------------------------------
    def active(self, input_s: float) -> bool:
        """Is a reply audible at ``input_s`` (from its start to ``delay_s + tail_s`` after its end)?"""
        return any(t.anchor_s - self.early_s <= input_s <= t.anchor_s + t.audible_ms / 1000.0 + self.delay_s
                   + self.tail_s for t in self._turns)

    def judge(self, words: Sequence[HeardWord], *, final: bool = False, open_end: bool = False) -> Judgement:
        """Echo, user speech, or not yet known (see the module docstring for the rule); ``open_end``:
        a partial, whose last word may be cut off by the end of its window."""
        hyp: list[tuple[str, float, float, int]] = []  # token, start, end, index of its word
        counted = [False] * len(words)
        for i, w in enumerate(words):
            for token in normalize(w.word).split():
                hyp.append((token, w.start_s, max(w.end_s, w.start_s), i))
                counted[i] = True
        hyp = hyp[-MAX_HYP_TOKENS:]
        echo = [False] * len(words)
        if hyp:
            for i in self._align(hyp):
                echo[i] = True
        flags = [echo[i] for i in range(len(words)) if counted[i]]
        if open_end and not final and flags and not flags[-1]:
            flags.pop()  # a cut-off word unlike the reply is no evidence of the user yet
        matched = sum(flags)
        unmatched = len(flags) - matched
        run = best = 0
        for f in flags:
            run = 0 if f else run + 1
            best = max(best, run)
        if best >= self.min_user_words:
            verdict = Verdict.USER
        elif matched >= 1 and matched >= unmatched:
            verdict = Verdict.ECHO
        elif final:  # too short to tell: one garbled word of echo must not stop the reply
            verdict = Verdict.USER if unmatched > matched and unmatched >= self.min_user_words else Verdict.ECHO
        else:
            verdict = Verdict.UNSURE
        return Judgement(verdict, tuple(echo), matched, unmatched, best)

    def _reply_tokens(self, lo: float, hi: float) -> list[tuple[str, float, float]]:
        """Reply tokens whose audible window [start - early, end + delay] meets [lo, hi], in order."""
        out: list[tuple[str, float, float]] = []
        for t in self._turns:
            for w in t.words:
                start = t.start_s(w)
                end = start + (w.end_ms - w.start_ms) / 1000.0
                if end + self.delay_s >= lo and start - self.early_s <= hi:
                    out.extend((tok, start, end) for tok in w.tokens)
        out.sort(key=lambda r: r[1])
        return out[:MAX_REPLY_TOKENS]

    def _align(self, hyp: list[tuple[str, float, float, int]]) -> set[int]:
        """Indices of hypothesis words in the longest in-order match with reply words (text and time)."""
        reply = self._reply_tokens(min(h[1] for h in hyp), max(h[2] for h in hyp))
        if not reply:
            return set()
        n, m = len(hyp), len(reply)
        score = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(1, n + 1):
            tok, hs, he, _ = hyp[i - 1]
            row, prev = score[i], score[i - 1]
            for j in range(1, m + 1):
                best = max(prev[j], row[j - 1])
                rtok, rs, re_ = reply[j - 1]
                if prev[j - 1] + 1 > best and hs <= re_ + self.delay_s and he >= rs - self.early_s \
                        and similar(tok, rtok):
                    best = prev[j - 1] + 1
                row[j] = best
        found: set[int] = set()
        heard: set[int] = set()  # reply tokens matched
        i, j = n, m
        while i > 0 and j > 0:
            if score[i][j] == score[i - 1][j]:
                i -= 1
            elif score[i][j] == score[i][j - 1]:
                j -= 1
            else:
                found.add(hyp[i - 1][3])
                heard.add(j - 1)
                i -= 1
                j -= 1
        # Whisper repeats words of a cut-off window ("the printing pressed, the printing"): a word
        # that says again a reply word already matched, in time, is the same echo
        for tok, hs, he, index in hyp:
            if index not in found and any(
                    hs <= reply[k][2] + self.delay_s and he >= reply[k][1] - self.early_s and similar(tok, reply[k][0])
                    for k in heard):
                found.add(index)
        return found


def trim_echo(judgement: Judgement, min_run: int = 2) -> tuple[int, int]:
    """The slice ``[lo, hi)`` of a hypothesis's words left once leading and trailing echo is cut
    (the reply heard before the user started and after they stopped); echo amid user words stays,
    and so does a lone matching word at an edge (the user may well have said it: fewer than
    ``min_run`` words are not cut)."""
    flags = judgement.echo
    lo, hi = 0, len(flags)
    while lo < hi and flags[lo]:
        lo += 1
    while hi > lo and flags[hi - 1]:
        hi -= 1
    if lo < min_run:
        lo = 0
    if len(flags) - hi < min_run:
        hi = len(flags)
    return lo, hi
