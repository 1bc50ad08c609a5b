"""Incremental text segmentation: text deltas of any size in, speakable chunks out.

Why: an LLM streams tokens; waiting for the whole reply wastes seconds, while cutting at every
period breaks "Dr. Smith" or "3.14". The first chunk of a turn leaves as soon as it is speakable:
at a clause mark (even after one word: "Sure," "Well," "Honestly,"; the moment the mark arrives
after a letter, without waiting for the next word), or, once about four words
are complete, just before a word that opens a clause or phrase ("…is better | for your team",
never "…better for your | team"), else after the last of five words that can end a phrase. The
chunk after an early cut is cut early too, after about twice its words, at a clause mark or
before a clause/phrase opener, so that it is made while the one before plays (at 15 words/s
"In short," was followed by the rest of a long sentence, which took longer to make than
"In short," to play: a 0.6 s gap).
From there chunks grow back to whole sentences (newlines, or for run-ons the best clause/space)
so prosody stays natural.

Cuts only ever happen at whitespace, so tokens without spaces (URLs, e-mail addresses,
decimals, times, 1,000,000, U.S.A.) are never split. Pure: no I/O, no model, no asyncio.
"""

from __future__ import annotations

import re

# Abbreviations after which a period never ends a sentence (the next word is a name or number).
_NEVER_ENDS = frozenset(
    [
        "mr", "mrs", "ms", "mx", "dr", "prof", "st", "sr", "jr", "gen", "gov", "sen", "rep", "capt", "lt", "col",
        "sgt", "rev", "hon", "fig", "no", "nos", "vol", "vs", "approx", "dept", "est", "mt", "ave", "blvd", "ch",
        "pp", "cf", "al", "ft",
    ]
)
# Words that open a clause, then words that open a phrase: a first chunk cut without punctuation
# ends just before one of them, never just after ("…better | for your team", not "…for your |").
_CLAUSE_OPENERS = frozenset(
    [
        "and", "but", "or", "nor", "so", "yet", "because", "which", "that", "who", "whom", "whose", "where",
        "when", "while", "although", "though", "if", "unless", "since", "until", "whereas", "whether"
    ]
)
_PHRASE_OPENERS = frozenset(
    [
        "for", "to", "with", "in", "on", "at", "from", "by", "about", "of", "into", "onto", "over", "under",
        "after", "before", "during", "without", "within", "through", "between", "than", "like", "as", "against",
        "across", "along", "around", "toward", "towards", "upon"
    ]
)
# Words a chunk must not end on: they need the word after them.
_NO_CHUNK_END = _CLAUSE_OPENERS | _PHRASE_OPENERS | frozenset(
    [
        "a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "some",
        "any", "no", "every", "each", "is", "are", "was", "were", "be", "not", "very", "more", "most"
    ]
)
_GROW_UNTIL_WORDS = 16  # early cuts stop once a chunk may be this long: sentences from there
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$|^[A-Za-z]$")  # U.S.A / e.g / a.m / J
_LEADING = "\"'“‘«([{"
_SENTENCE = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(\s+)(?=(\S))")
_CLAUSE = re.compile(r"([,;:—–]|\s-)([\"'”’»)\]]*)(\s+)(?=\S)")
_NEWLINE = re.compile(r"\n\s*")
# A first chunk's mark that is the last thing received, right after a letter (never "1," of
# "1,000" or "3." of "3.14"): a comma or semicolon as it comes, a sentence mark once a space
# follows it ("Sure. " but not "www." of "www.example.com"; "?" and "!" are never inside a word).
_CLAUSE_AT_END = re.compile(r"(?<=[^\W\d_])[,;][\"'”’»)\]]*\s*$")
_SENTENCE_AT_END = re.compile(r"(?<=[^\W\d_])(?:[.…]+[\"'”’»)\]]*\s+|[!?]+[\"'”’»)\]]*\s*)$")


class Segmenter:
    """Turns a turn's text deltas into chunks worth synthesizing now.

    ``push`` returns the chunks completed by a delta, ``finish`` flushes the rest at the end of
    a turn (and readies the segmenter for the next turn), ``reset`` drops everything.
    """

    def __init__(
        self,
        first_chunk_min_words: int = 2,
        first_chunk_max_words: int = 5,
        max_chunk_chars: int = 300,
        hard_max_chars: int = 2000,
        early_first_chunk: bool = True,
        first_chunk_words: int | None = None,
        first_clause_min_words: int = 1,
    ) -> None:
        if first_chunk_min_words < 1 or first_chunk_max_words < first_chunk_min_words:
            raise ValueError("need 1 <= first_chunk_min_words <= first_chunk_max_words")
        # from this many complete words a cut before a clause/phrase opener is taken; at max, any safe cut
        self.first_chunk_words = min(first_chunk_words or 4, first_chunk_max_words)
        if max_chunk_chars < 20 or hard_max_chars < max_chunk_chars:
            raise ValueError("need 20 <= max_chunk_chars <= hard_max_chars")
        self.first_chunk_min_words = first_chunk_min_words
        # A clause mark may end the first chunk after this many words. One, because a reply's
        # opener ("Sure," "Well,") is complete the moment it arrives and is said alone with its
        # pause anyway; waiting for four more words cost ~0.27 s at 15 words/s plus their synthesis.
        self.first_clause_min_words = max(1, first_clause_min_words)
        self.first_chunk_max_words = first_chunk_max_words
        self.max_chunk_chars = max_chunk_chars
        self.hard_max_chars = hard_max_chars
        self.early_first_chunk = early_first_chunk  # False: whole sentences only (the usual baseline)
        self._buf = ""
        self._first = True
        self._grow: int | None = None  # after an early cut: the next chunk may end after this many words
        self._early_cut = False  # the cut being made is an early one (first chunk or growth)

    @property
    def pending(self) -> str:
        """Text received but not yet emitted."""
        return self._buf

    def push(self, delta: str) -> list[str]:
        if not isinstance(delta, str):
            raise TypeError(f"text delta must be str, got {type(delta).__name__}")
        self._buf += delta
        return self._drain()

    def finish(self) -> list[str]:
        chunks = self._drain()
        rest = self._buf.strip()
        if rest:
            chunks.append(rest)
        self.reset()
        return chunks

    def reset(self) -> None:
        self._buf = ""
        self._first = True
        self._grow = None

    # -- internals ---------------------------------------------------------------------------

    def _drain(self) -> list[str]:
        out: list[str] = []
        while True:
            cut = self._find_cut(self._buf)
            if cut is None:
                return out
            chunk, self._buf = self._buf[:cut].strip(), self._buf[cut:]
            if chunk:
                out.append(chunk)
                self._first = False
                # After an early cut the next chunk is cut early too, at about twice its words: its
                # synthesis must fit in this one's playback ("In short," then the rest of a long
                # sentence ran dry 0.6 s). Chunks grow back to whole sentences from there.
                grow = max(4, 2 * len(chunk.split())) if self._early_cut else None
                self._grow = grow if grow is not None and grow <= _GROW_UNTIL_WORDS else None

    def _find_cut(self, buf: str) -> int | None:
        self._early_cut = False
        if not buf.strip():
            return None
        body_start = len(buf) - len(buf.lstrip())
        best: int | None = None
        m = _NEWLINE.search(buf, body_start)
        if m:
            best = m.end()
        for s in _SENTENCE.finditer(buf, body_start):
            if best is not None and s.end() >= best:
                break
            if self._is_sentence_end(buf, s):
                best = s.end()
                break
        if self._grow is not None and not self._first:
            cut = self._growth_cut(buf[: best if best is not None else len(buf)], self._grow)
            if cut is not None:
                self._early_cut = True
                return cut
        if best is not None:
            return best
        if self._first and self.early_first_chunk:
            cut = self._first_chunk_cut(buf, body_start)
            if cut is not None:
                self._early_cut = True
                return cut
        if len(buf) > self.max_chunk_chars:
            return self._overflow_cut(buf)
        return None

    def _is_sentence_end(self, buf: str, m: re.Match[str]) -> bool:
        punct, next_char = m.group(1), m.group(4)
        if next_char.islower():  # "e.g. this", "wait... what", "approx. five"
            return False
        if _inside_quotes(buf, m.start(3)):  # after any closing quote
            return False
        if punct == ".":
            line_start = buf.rfind("\n", 0, m.start()) + 1
            before = buf[line_start : m.start()]
            word = before.split()[-1].lstrip(_LEADING) if before.split() else ""
            if word.lower() in _NEVER_ENDS or _INITIALS.match(word):
                return False
            if len(before.split()) == 1 and (word.isdigit() or len(word) == 1):  # list item "1. "
                return False
        return True

    def _first_chunk_cut(self, buf: str, start: int) -> int | None:
        for c in _CLAUSE.finditer(buf, start):
            if _inside_quotes(buf, c.start()):
                continue
            if len(buf[: c.start()].split()) >= self.first_clause_min_words:
                return c.end()
        cut = self._word_cut(buf)
        return cut if cut is not None else self._mark_at_end(buf, start)

    def _word_cut(self, buf: str) -> int | None:
        """No clause boundary yet: after enough complete words, cut before a function word
        ("…is better | for your team"), else after the last word that can end a phrase
        (not "the", "your", "is"), else after the last word that may end a chunk at all."""
        words = list(re.finditer(r"\S+(?=\s)", buf))
        if len(words) < self.first_chunk_words:
            return None
        words = words[: self.first_chunk_max_words]
        cut = _phrase_cut(words, self.first_chunk_min_words)
        if cut is not None:
            return _skip_space(buf, cut)
        if len(words) < self.first_chunk_max_words:
            return None
        for n in range(len(words), self.first_chunk_min_words - 1, -1):  # chunk = words[:n]
            last = words[n - 1].group()
            if _bare(last) not in _NO_CHUNK_END and not _protected_word(last):
                return _skip_space(buf, words[n - 1].end())
        for w in reversed(words):
            if not _protected_word(w.group()):
                return _skip_space(buf, w.end())
        return None

    def _mark_at_end(self, buf: str, start: int) -> int | None:
        """The whole buffer, when it ends in a clause or sentence mark that ends the first chunk.

        Why: the next word used to be waited for to show that the mark ends a clause, one token
        of the LLM (33 ms at 30 tokens/s) or one word of typed text (67 ms at 15 words/s) before
        the first chunk's synthesis could start; a sentence-at-a-time synthesizer starts at the
        sentence's last word."""
        m = _CLAUSE_AT_END.search(buf, start) or _SENTENCE_AT_END.search(buf, start)
        if m is None or _inside_quotes(buf, m.start()):
            return None
        before = buf[start : m.start()].split()
        if len(before) < self.first_clause_min_words:
            return None
        if buf[m.start()] == "." and (_protected_word(before[-1] + ".") or len(before[-1].lstrip(_LEADING)) == 1):
            return None  # "Dr." / "U.S." / "e.g." / an initial: a name or a noun follows
        return len(buf)

    def _growth_cut(self, text: str, grow: int) -> int | None:
        """A cut after ``grow`` to ``2 * grow`` words, at a clause mark or before a word that opens
        a clause or phrase, with at least three words after it; None: wait (or none fits)."""
        words = list(re.finditer(r"\S+(?=\s)", text))
        if text and not text[-1].isspace():  # a sentence's text up to its end: its last word is whole
            last = re.search(r"\S+$", text)
            words += [last] if last else []
        if len(words) < grow + 3:
            return None
        for c in _CLAUSE.finditer(text):
            n = len(text[: c.start()].split())
            if grow <= n < 2 * grow and len(words) - n >= 3 and not _inside_quotes(text, c.start()):
                return c.end()
        window = words[: min(2 * grow, len(words) - 3) + 1]  # the chunk is window[:k]; window[k] opens
        cut = _phrase_cut(window, grow)
        return None if cut is None else _skip_space(text, cut)

    def _overflow_cut(self, buf: str) -> int | None:
        window = buf[: self.max_chunk_chars]
        clauses = [c.end() for c in _CLAUSE.finditer(window) if not _inside_quotes(buf, c.start())]
        if clauses and clauses[-1] > self.max_chunk_chars // 3:
            return clauses[-1]
        for w in reversed(list(re.finditer(r"\S+(?=\s)", window))):
            if not _protected_word(w.group()) and w.end() > self.max_chunk_chars // 3:
                return _skip_space(buf, w.end())
        if len(buf) > self.hard_max_chars:  # one enormous token: give up on a boundary
            return self.hard_max_chars
        return None


def _phrase_cut(words: list[re.Match[str]], min_words: int) -> int | None:
    """End of the latest chunk of >= ``min_words`` words whose next word opens a phrase.

    A word that starts a clause ("and", "because", "which") beats one that starts a
    prepositional phrase ("for", "to", "with"), which beats a determiner or auxiliary ("the",
    "my", "is"): all keep the words of a phrase together, so
    the first chunk never ends on "…better for your". The latest such place wins, keeping the
    first chunk as long as the early-cut budget allows (better prosody for the same wait).
    """
    for tier in (_CLAUSE_OPENERS, _PHRASE_OPENERS, _NO_CHUNK_END):
        for k in range(len(words) - 1, min_words - 1, -1):  # chunk = words[:k], words[k] opens
            nxt, last = _bare(words[k].group()), words[k - 1].group()
            if nxt in tier and _bare(last) not in _NO_CHUNK_END and not _protected_word(last):
                return words[k - 1].end()
    return None


def _bare(word: str) -> str:
    return word.strip(_LEADING + "\"'”’»)]},.;:!?").lower()


def _inside_quotes(buf: str, pos: int) -> bool:
    head = buf[:pos]
    return head.count('"') % 2 == 1 or head.count("“") > head.count("”")


def _protected_word(word: str) -> bool:
    """A word that must stay with the next one ("Dr." + name, "U.S." + noun)."""
    if not word.endswith("."):
        return False
    core = word[:-1].lstrip(_LEADING)
    return core.lower() in _NEVER_ENDS or bool(_INITIALS.match(core))


def _skip_space(buf: str, pos: int) -> int:
    while pos < len(buf) and buf[pos].isspace():
        pos += 1
    return pos
