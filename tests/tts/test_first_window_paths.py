"""A turn's first chunk in two parts through `say`'s driver and the server's pipeline (toy backend, no models)."""

from __future__ import annotations

import asyncio

import numpy as np

from streamvoice.config import load_config
from streamvoice.engine.engine import Engine
from streamvoice.protocol.messages import TtsAudio, TtsDone
from streamvoice.protocol.options import TtsOptions
from streamvoice.runtime.events import CancelRequested, TextReceived
from streamvoice.runtime.session import Session
from streamvoice.tts.driver import SpeechDriver
from tests.runtime.test_pipelines import ListOutbox, started, until
from tests.tts.split_toy import HEAD, SplitToy

TEXT = ["Sure ", "I ", "can ", "help ", "you ", "with ", "that ", "right ", "away. ", "The ", "report ", "is ",
        "due ", "on ", "Friday."]


def _speak(backend: SplitToy, release_parts: bool = False) -> list:  # type: ignore[type-arg]
    return list(SpeechDriver(backend, backend.g2p(), "toy", release_parts=release_parts).speak(iter(TEXT)))


def test_driver_gives_the_same_frames_with_or_without_the_split() -> None:
    split, whole = SplitToy(), SplitToy(split=False)
    parted = _speak(split, release_parts=True)
    one = _speak(whole)
    assert split.calls[:2] == ["head", "rest"] and "head" not in split.calls[2:]  # first chunk only
    assert whole.calls == ["whole"] * len(whole.calls)
    frames = [f for b in parted for f in b.frames]
    reference = [f for b in one for f in b.frames]
    assert [(f.pcm, f.seq, f.chunk, f.offset_ms, f.text, f.words) for f in frames] == \
        [(f.pcm, f.seq, f.chunk, f.offset_ms, f.text, f.words) for f in reference]
    first, second = parted[0], parted[1]  # the first chunk's two parts, each released as made
    assert first.text == second.text == "Sure I can help you" and len(one[0].frames) > len(first.frames)
    assert sum(f.samples for f in first.frames) <= HEAD and second.frames[0].chunk == 0
    assert first.frames[0].words and not any(f.words or f.text for f in second.frames)
    batched = _speak(SplitToy())  # by default the parts are one batch, as `say` prints them
    assert [b.text for b in batched] == [b.text for b in one]


def test_cancel_during_the_second_window_stops_the_turn() -> None:
    backend = SplitToy(hold_rest=True)
    driver = SpeechDriver(backend, backend.g2p(), "toy", release_parts=True)
    batches = []
    for batch in driver.speak(iter(TEXT)):
        batches.append(batch)
        assert backend.rest_started.wait(5.0)
        driver.cancel()
    assert backend.rest_aborted.is_set() and driver.stats.cancelled
    assert len(batches) == 1 and backend.calls == ["head", "rest"]  # nothing after the cancel
    assert driver.stats.stop_s is not None and driver.stats.stop_s < 1.0


class _Server:
    """A session on the real engine with the toy backend: the server's pipeline, no socket."""

    def __init__(self, backend: SplitToy) -> None:
        self.engine = Engine(None, backend, backend.g2p())
        self.out = ListOutbox()
        self.session = Session("s1", self.engine, load_config({}, {}), self.out)

    async def __aenter__(self) -> _Server:
        await self.engine.start()
        self.task = asyncio.create_task(self.session.run())
        self.session.handle(started(tts=TtsOptions(voice="toy")))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.engine.close()


async def _serve(backend: SplitToy) -> list[TtsAudio]:
    async with _Server(backend) as s:
        for i, piece in enumerate(TEXT):
            s.session.handle(TextReceived(1, piece, i == len(TEXT) - 1))
        await until(lambda: s.out.of(TtsDone))
    assert s.out.of(TtsDone)[0].status == "complete"
    return s.out.of(TtsAudio)


async def test_server_sends_the_split_first_chunk_as_the_whole_one() -> None:
    split, whole = SplitToy(), SplitToy(split=False)
    parted, one = await _serve(split), await _serve(whole)
    assert split.calls[:2] == ["head", "rest"] and whole.calls[0] == "whole"
    assert [m.model_dump() for m in parted] == [m.model_dump() for m in one]  # bytes, seq, text, words, offsets
    assert [m.text for m in parted if m.text] == ["Sure I can help you", "with that right away.",
                                                  "The report is due on Friday."]


async def test_server_cancel_during_the_second_window() -> None:
    backend = SplitToy(hold_rest=True)
    async with _Server(backend) as s:
        s.session.handle(TextReceived(1, "".join(TEXT), True))
        await until(lambda: s.out.of(TtsAudio) and backend.rest_started.is_set())
        s.session.handle(CancelRequested(None))
        await until(lambda: s.out.of(TtsDone))
        await asyncio.to_thread(backend.rest_aborted.wait, 5.0)
        await asyncio.sleep(0.05)
    assert backend.rest_aborted.is_set()
    assert [d.status for d in s.out.of(TtsDone)] == ["cancelled"]
    assert s.out.messages[-1] is s.out.of(TtsDone)[0]
    sent = np.frombuffer(b"".join(m.data for m in s.out.of(TtsAudio)), "<i2")
    assert 0 < sent.size <= HEAD and backend.calls == ["head", "rest"]
