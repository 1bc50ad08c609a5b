"""The live-socket fuzzer: fuzzed frames from many sessions at once, each answer checked against the spec.

A worker opens a session (sometimes sending a fuzzed frame before ``hello``), sends a batch of
frames from :class:`~bench.fuzz_frames.FrameFuzzer`, then a ``ping`` with an id of its own, and
reads until that ``pong`` (or the close). The batch is *answered* when the pong (or, after a frame
the spec calls fatal, the close) arrives within the timeout; it *conforms* when the errors received
contain the decoding errors the reference decoder predicts, in order, any other error is one a
valid message may earn (state, order, options), no ``internal`` error came, and every close has
the code and reason of section 10. A batch ends at a frame the spec calls fatal (nothing after it
would be processed); the worker then reconnects. Used by the test suite (short) and
``bench.reliability`` (long).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.fuzz_frames import SEMANTIC_CODES, FrameFuzzer, FuzzFrame
from streamvoice.protocol.limits import Limits

_PING_IDS = itertools.count(10**12)  # far from the ids fuzzed pings carry


@dataclass
class FuzzStats:
    frames: int = 0
    answered: int = 0
    unanswered: int = 0
    nonconforming: int = 0
    internal_errors: int = 0
    sessions: int = 0
    fatal_closes: int = 0
    refused: int = 0  # connections the server turned away (1013 at its session limit)
    kinds: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    close_codes: Counter[int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(text)

    def figures(self) -> dict[str, Any]:
        return {
            "frames": self.frames, "answered": self.answered, "unanswered": self.unanswered,
            "nonconforming": self.nonconforming, "internal_errors": self.internal_errors,
            "sessions": self.sessions, "fatal_closes": self.fatal_closes, "refused": self.refused,
            "kinds": dict(self.kinds), "error_codes": dict(self.error_codes),
            "close_codes": {str(k): v for k, v in self.close_codes.items()}, "examples": self.examples,
        }


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


async def _answers(ws: Any, ping_id: int | None,
                   timeout: float) -> tuple[list[dict[str, Any]], tuple[int, str] | None, bool]:
    """Errors received until our pong (or the close); (errors, close, answered)."""
    errors: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                raw = await ws.recv()
                if not isinstance(raw, bytes):
                    continue
                msg = msgpack.unpackb(raw)
                if msg.get("type") == "error":
                    errors.append(msg)
                elif msg.get("type") == "pong" and ping_id is not None and msg.get("id") == ping_id:
                    return errors, None, True
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        return errors, ((rcvd.code, rcvd.reason) if rcvd is not None else (1006, "")), True
    except TimeoutError:
        return errors, None, False


def _check(batch: list[FuzzFrame], errors: list[dict[str, Any]], close: tuple[int, str] | None,
           stats: FuzzStats) -> bool:
    codes = [str(e.get("code")) for e in errors]
    stats.error_codes.update(codes)
    if "internal" in codes:
        stats.internal_errors += 1
        return False
    predicted = [f.expect.code for f in batch if f.expect.code is not None]
    last = batch[-1].expect
    if last.code == "frame_too_large":  # found from the header: may overtake the answers before it (§9)
        allowed = set(predicted) | SEMANTIC_CODES
        if any(code not in allowed for code in codes):
            return False
    else:
        if not _is_subsequence(predicted, codes):
            return False
        extra = Counter(codes) - Counter(predicted)
        if any(code not in SEMANTIC_CODES for code in extra):
            return False
    if last.fatal:
        fatal = [e for e in errors if e.get("fatal")]
        return close == (last.close_code, last.code) and bool(fatal) and fatal[-1].get("code") == last.code
    if close is not None:  # a valid-looking hello with no common version is the one semantic fatal error
        return "unsupported_version" in codes and close == (1002, "unsupported_version")
    return not any(e.get("fatal") for e in errors)


async def fuzz_worker(url: str, seed: int, frames: int, stats: FuzzStats, *, limits: Limits,
                      batch_size: int = 8, timeout: float = 15.0) -> None:
    """Send ``frames`` fuzzed frames over as many sessions as it takes; count into ``stats``."""
    fuzzer = FrameFuzzer(seed, limits)
    sent = 0
    while sent < frames:
        try:
            async with ws_connect(url, compression=None, max_size=None, open_timeout=timeout,
                                  ping_interval=None) as ws:
                stats.sessions += 1
                if fuzzer.rng.random() < 0.1:  # something before hello
                    sent += await _one_batch(ws, [fuzzer.next()], stats, timeout)
                    if ws.close_code is not None:
                        continue
                await ws.send(msgpack.packb({"type": "hello"}))
                while sent < frames and ws.close_code is None:
                    batch: list[FuzzFrame] = []
                    while len(batch) < batch_size:
                        frame = fuzzer.next()
                        batch.append(frame)
                        if frame.expect.fatal:
                            break
                    sent += await _one_batch(ws, batch, stats, timeout)
        except InvalidStatus:
            stats.refused += 1
            await asyncio.sleep(0.05)
        except ConnectionClosed as exc:  # closed while sending: counted by the batch that caused it
            if exc.rcvd is not None and exc.rcvd.code == 1013:
                stats.refused += 1
                await asyncio.sleep(0.05)
        except (OSError, TimeoutError) as exc:
            stats.problem(f"connect failed: {exc!r}")
            await asyncio.sleep(0.1)


async def _one_batch(ws: Any, batch: list[FuzzFrame], stats: FuzzStats, timeout: float) -> int:
    for frame in batch:
        stats.kinds[frame.kind] += 1
        await ws.send(frame.payload)
    ping_id = None
    if not batch[-1].expect.fatal:
        ping_id = next(_PING_IDS)
        with contextlib.suppress(ConnectionClosed):  # closed by a semantic fatal error: the close answers
            await ws.send(msgpack.packb({"type": "ping", "id": ping_id}))
    errors, close, answered = await _answers(ws, ping_id, timeout)
    if close == (1013, "server_busy") and not errors:  # refused at admission: the frames reached no session
        stats.refused += 1
        await asyncio.sleep(0.05)
        return 0
    stats.frames += len(batch)
    if close is not None:
        stats.close_codes[close[0]] += 1
        if close[0] != 1000:
            stats.fatal_closes += 1
    if not answered:
        stats.unanswered += len(batch)
        stats.problem(f"no answer within {timeout} s to {[f.kind for f in batch]}")
        await ws.close()
        return len(batch)
    stats.answered += len(batch)
    if not _check(batch, errors, close, stats):
        stats.nonconforming += len(batch)
        stats.problem(f"{[(f.kind, f.expect.code) for f in batch]} -> {[e.get('code') for e in errors]} close {close}")
    if close is not None and ws.close_code is None:
        await ws.close()
    return len(batch)


async def run_fuzz(url: str, *, workers: int, frames: int, seed: int, limits: Limits,
                   batch_size: int = 8, stats: FuzzStats | None = None) -> FuzzStats:
    """``frames`` fuzzed frames in all, from ``workers`` concurrent sessions (counted into ``stats`` if
    given, so that a caller can watch the progress)."""
    stats = FuzzStats() if stats is None else stats
    each = -(-frames // workers)
    await asyncio.gather(*(fuzz_worker(url, seed * 1000 + i, each, stats, limits=limits, batch_size=batch_size)
                           for i in range(workers)))
    return stats
