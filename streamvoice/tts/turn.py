"""One turn of speech, sans-I/O: text deltas in, chunk jobs out; synthesis results in, frames out.

Why a plan object: the server pipeline (``runtime/tts_pipeline.py``, engine worker + asyncio) and
the in-process driver behind ``say`` (plain threads) share this one framing path: segmentation,
merging a chunk's sub-chunks, the fades at every chunk join, resampling, sample format, word
offsets, frame order, and that after ``cancel()`` nothing more of the turn is sent even if
results still arrive. So both faces produce the same samples for the same text. Pure: no
threads, no model, no asyncio.

A chunk's result may come in parts (a turn's first chunk vocoded in two windows: a result
whose ``rest`` is set says more of the same chunk follows). The parts are framed as one chunk
(:class:`~streamvoice.tts.frames.ChunkFramer`: fades at the chunk's edges only, frames in
order, text and words on the chunk's first frame) and the next chunk waits for the last part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from streamvoice.tts.frames import ChunkFramer
from streamvoice.tts.lead_silence import leading_silence
from streamvoice.tts.segmenter import Segmenter
from streamvoice.tts.types import SynthesisResult, WordTiming


@dataclass(frozen=True, slots=True)
class ChunkJob:
    """A text chunk to phonemize and synthesize for a turn."""

    turn: int
    index: int  # order within the turn; frames go out in this order
    text: str


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """One frame of a turn's audio, ready for a ``tts_audio`` message."""

    turn: int
    seq: int  # frame number within the turn
    chunk: int  # ChunkJob.index this frame belongs to
    pcm: bytes = field(repr=False)  # mono at sample_rate, in the plan's encoding (int16 LE by default)
    sample_rate: int
    samples: int
    offset_ms: float  # where this frame starts in the turn's audio
    text: str  # the chunk's text on its first frame, else ""
    words: tuple[WordTiming, ...]  # first frame of a chunk: its words, in turn seconds


def merge_results(results: list[SynthesisResult]) -> SynthesisResult:
    """Concatenate the sub-chunks of one text chunk (split for the phoneme limit) into one result."""
    if not results:
        raise ValueError("no results to merge")
    if len(results) == 1:
        return results[0]
    rate = results[0].sample_rate
    words: list[WordTiming] = []
    offset = 0
    for r in results:
        shift = offset / rate
        words.extend(WordTiming(w.word, w.start_s + shift, w.end_s + shift) for w in r.words)
        offset += r.audio.size
    audio = np.concatenate([r.audio for r in results]).astype(np.float32)
    return SynthesisResult(audio, rate, tuple(words), sum(r.compute_s for r in results))


class TurnSynthesisPlan:
    """Bookkeeping for one turn; drive it with push/finish, accept/skip, cancel."""

    def __init__(
        self, turn: int, sample_rate: int = 24_000, frame_ms: int = 60, segmenter: Segmenter | None = None,
        encoding: str = "pcm_s16le",
    ) -> None:
        self.turn = turn
        self.sample_rate = sample_rate  # the client's rate
        self.frame_ms = frame_ms
        self.encoding = encoding  # "pcm_s16le" or "pcm_f32le"
        self._width = 4 if encoding == "pcm_f32le" else 2
        self._segmenter = segmenter or Segmenter()
        self._next_job = 0
        self._next_out = 0
        self._held: dict[int, list[SynthesisResult | None]] = {}  # parts waiting for earlier chunks
        self._framer: ChunkFramer | None = None  # the chunk being framed (parts still to come)
        self._chunk_start_s = 0.0  # turn time of the open chunk's first sample
        self._chunk_at = 0  # client-rate samples of the open chunk framed so far
        self._chunk_trim_s = 0.0  # the open chunk's leading silence, dropped (word times move with it)
        self._meta: tuple[str, tuple[WordTiming, ...]] | None = None  # text and words not yet on a frame
        self._texts: dict[int, str] = {}
        self._seq = 0
        self._audio_s = 0.0
        self.finished = False
        self.cancelled = False

    @property
    def audio_s(self) -> float:
        """Seconds of audio released so far."""
        if self._framer is not None:
            return self._chunk_start_s + self._chunk_at / self.sample_rate
        return self._audio_s

    @property
    def done(self) -> bool:
        """Finished and every chunk's result released (or cancelled)."""
        return self.cancelled or (self.finished and self._next_out == self._next_job)

    def push(self, delta: str) -> list[ChunkJob]:
        if self.cancelled:
            return []
        if self.finished:
            raise ValueError(f"turn {self.turn} already ended; start a new turn for more text")
        return self._jobs(self._segmenter.push(delta))

    def finish(self) -> list[ChunkJob]:
        if self.cancelled or self.finished:
            return []
        self.finished = True
        return self._jobs(self._segmenter.finish())

    def cancel(self) -> None:
        """Drop everything queued; results that still arrive for this turn are discarded."""
        self.cancelled = True
        self._held.clear()
        self._texts.clear()
        self._framer = None
        self._segmenter.reset()

    def wanted(self, job: ChunkJob) -> bool:
        """Whether a job is still worth running (false once its turn is cancelled)."""
        return not self.cancelled and job.turn == self.turn and job.index >= self._next_out

    def skip(self, job: ChunkJob) -> list[AudioFrame]:
        """A chunk with nothing speakable: release the order slot without audio."""
        return self._accept(job, None)

    def accept(self, job: ChunkJob, result: SynthesisResult) -> list[AudioFrame]:
        """Frames now releasable, in order; empty for a cancelled turn or while earlier chunks are pending.

        ``result.rest`` set: a part, more of the same chunk follows (accept it with the same job);
        word times of every part are from the chunk's start."""
        return self._accept(job, result)

    def _jobs(self, chunks: list[str]) -> list[ChunkJob]:
        jobs = [ChunkJob(self.turn, self._next_job + i, text) for i, text in enumerate(chunks)]
        self._next_job += len(jobs)
        self._texts.update((j.index, j.text) for j in jobs)
        return jobs

    def _accept(self, job: ChunkJob, result: SynthesisResult | None) -> list[AudioFrame]:
        if not self.wanted(job):
            return []
        self._held.setdefault(job.index, []).append(result)
        frames: list[AudioFrame] = []
        while self._next_out in self._held:
            closed = False
            for part in self._held.pop(self._next_out):
                if part is None:
                    self._texts.pop(self._next_out, None)
                    closed = True
                    break
                frames.extend(self._frames(self._next_out, part))
                closed = part.rest is None
            if not closed:
                break  # the chunk's next part is still being synthesized
            self._next_out += 1
        return frames

    def _frames(self, index: int, part: SynthesisResult) -> list[AudioFrame]:
        audio = part.audio
        if self._framer is None:  # the chunk's first part: its leading silence goes (see lead_silence)
            self._framer = ChunkFramer(part.sample_rate, self.sample_rate, self.frame_ms, encoding=self.encoding)
            self._chunk_start_s, self._chunk_at = self._audio_s, 0
            self._meta = (self._texts.pop(index, ""), ())
            trim = leading_silence(audio, part.sample_rate, part.words[0].start_s if part.words else None)
            audio, self._chunk_trim_s = audio[trim:], trim / part.sample_rate
        start_s, shift = self._chunk_start_s, self._chunk_start_s - self._chunk_trim_s
        words = tuple(
            WordTiming(w.word, round(max(start_s, w.start_s + shift), 4), round(max(start_s, w.end_s + shift), 4))
            for w in part.words
        )
        if words:
            text, earlier = self._meta or ("", ())
            self._meta = (text, earlier + words)
        last = part.rest is None
        out: list[AudioFrame] = []
        for pcm in self._framer.push(audio, last=last):
            n = len(pcm) // self._width
            text, chunk_words = self._meta or ("", ())
            self._meta = None
            out.append(
                AudioFrame(
                    turn=self.turn,
                    seq=self._seq,
                    chunk=index,
                    pcm=pcm,
                    sample_rate=self.sample_rate,
                    samples=n,
                    offset_ms=(start_s + self._chunk_at / self.sample_rate) * 1000.0,
                    text=text,
                    words=chunk_words,
                )
            )
            self._seq += 1
            self._chunk_at += n
        if last:
            self._audio_s = start_s + self._chunk_at / self.sample_rate
            self._framer, self._meta = None, None
        return out
