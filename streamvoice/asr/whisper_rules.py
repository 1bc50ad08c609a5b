"""Whisper decoding rules every backend follows: the prompt, suppressed tokens, length limits, widths.

One place, so CTranslate2 and MLX decode the same window from the same token sequence under the
same limits, and a parity test between them compares engines rather than rule sets. The
tokenizer is faster-whisper's (``tokenizer.json`` of the installed model; it has openai-whisper's
attribute names). Pure functions.
"""

from __future__ import annotations

from typing import Any

PROMPT_TOKENS = 223  # Whisper's limit for previous-text context (half the 448-token window)
MAX_TOKENS = 448  # the decoder's context
FULL_FRAMES = 3000  # Whisper's 30 s window in 10 ms mel frames
_MARGIN_FRAMES = 100  # silence after the audio in an adaptive window (1 s)
_BUCKET_FRAMES = 200  # adaptive widths are multiples of 2 s (fewer shapes, steadier timing)


def encoder_frames(content_frames: int) -> int:
    """Adaptive encoder width: the audio plus a 1 s margin, rounded up to 2 s, at most 30 s."""
    need = content_frames + _MARGIN_FRAMES
    return min(FULL_FRAMES, -(-need // _BUCKET_FRAMES) * _BUCKET_FRAMES)


def max_new_tokens(seconds: float) -> int:
    """Bound generation by the audio length: fast speech is ~5 tokens/s, loops are unbounded."""
    return int(16 + 10 * seconds)


def suppressed_tokens(tok: Any) -> list[int]:
    """Whisper's default suppression: non-speech symbols and the task/control tokens."""
    suppress = set(tok.non_speech_tokens)
    for attr in ("transcribe", "translate", "sot", "sot_prev", "sot_lm", "no_speech"):
        value = getattr(tok, attr)
        if value is not None:
            suppress.add(value)
    return sorted(suppress)


def prompt_tokens(tok: Any, prompt: str, prefix: str) -> tuple[list[int], int]:
    """The decoder's forced start: previous text (at most ``PROMPT_TOKENS``), the start-of-transcript
    sequence without timestamps, then the committed words of this window. Returns the tokens and
    how many of them are the prefix (they end the list)."""
    tokens: list[int] = []
    if prompt.strip():
        tokens = [tok.sot_prev, *tok.encode(" " + prompt.strip())[-PROMPT_TOKENS:]]
    forced = tok.encode(" " + prefix.strip()) if prefix.strip() else []
    return [*tokens, *tok.sot_sequence, tok.no_timestamps, *forced], len(forced)


def max_length(prompt: list[int], audio_s: float) -> int:
    """Total tokens (prompt included) a decode of ``audio_s`` seconds may reach."""
    return min(MAX_TOKENS, len(prompt) + max_new_tokens(audio_s))
