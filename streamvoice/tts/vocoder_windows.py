"""Kokoro split at the vocoder's inputs, and the vocoder run over overlapping windows of frames.

Why: the vocoder (decoder + iSTFT generator) is most of Kokoro's time and works on aligned
frames (600 samples each); its first frames could be heard long before the last are computed.
Everything here is measured by ``bench.tts_vocoder_split`` before anything is wired in.

The cut (in memory, like the durations output): the prosody part ends at the aligned text
features ``/encoder/MatMul_1_output_0`` [1, 512, T], the F0 and energy curves
``/encoder/Reshape_output_0`` / ``/encoder/Reshape_1_output_0`` [1, 2T]; the vocoder takes those
plus ``style``. What stops windows being exact copies of the whole-chunk vocoding:

* the harmonic source's phase is a running sum (``CumSum``) over the whole F0 curve: each window
  would restart it at zero. An ``Add`` of a new input ``phase_offset`` [1, 1, 9] (cycles per
  harmonic) after the ``CumSum`` lets each window start where the whole chunk would be
  (:func:`harmonic_phase_offsets`); this makes the source identical (checked to ~1e-5 cycles).
  The exported graph has no random ops (no noise, no random initial phase).
* every AdaIN layer normalises each channel over the whole time axis (``ReduceMean`` on axis 2,
  instance norm): a window's statistics are its own, so a window's audio is a slightly different
  rendering of the same frames, not a slice of the whole. Nothing in the graph can fix that short
  of running the whole chunk; the windows are crossfaded, and the bench measures what is left.

Status: growing windows are measured only (``bench.tts_vocoder_split``; 8 first chunks of 6-9
words, 2-core machine under load 9-12); what is wired in is the cheap case, two windows for a
turn's first chunk (:mod:`streamvoice.tts.first_window`, ``--two-windows`` in the bench). Two
settings of growing windows, neither both pays and is seamless:

* windows 10 frames x2, context 8, crossfade 10 ms: first audio 0.18-0.21x the whole-chunk wall
  time, but 1.3x its wall / 1.48x its CPU in total; gapless playback (never running dry) starts
  at 1.0x measured under that load, 0.52 / 0.67 / 0.86x projected from CPU shares at whole-chunk
  RTF 0.5 / 0.7 / 1.0. Not seam-free: spectral change across joins 9.9 dB against 6.1 dB in the
  whole audio at the same place; windows 4.4 dB from the whole rendering (the model's own
  random-phase variation: 1.7 dB), window level off the whole by median 1.6 dB, up to 9 dB.
* windows 16 x2, context 16, crossfade 40 ms: joins clean (spectral change 9.1 vs 8.8 dB, sample
  steps below the whole audio's there), windows 3.0 dB from the whole, but 1.57x CPU in total and
  gapless start only 0.89x at RTF 0.7 (1.09x at RTF 1.0): it does not pay.

Round-trip WER (whisper-base): first setting, 24 development sentences, whole 0.36 %, split 0.73 %
(one word more); second setting, 8 sentences, whole 0 %, split 2.2 % ("TURNIPS" heard "turn-ups").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

ASR_FEATURES = "/encoder/MatMul_1_output_0"
F0_CURVE = "/encoder/Reshape_output_0"
ENERGY_CURVE = "/encoder/Reshape_1_output_0"
DURATIONS = "/encoder/Round_output_0"
PHASE_CUMSUM = "/decoder/decoder/generator/m_source/l_sin_gen/CumSum_output_0"
PHASE_OFFSET = "phase_offset"
HARMONICS = 9  # the sine generator's fundamental and 8 overtones
FRAME_SAMPLES = 600
F0_STEP_SAMPLES = 300  # the F0 and energy curves have two points per frame
SAMPLE_RATE = 24_000


def _closure(graph: onnx.GraphProto, outputs: Iterable[str], stop: set[str]) -> list[onnx.NodeProto]:
    """The nodes needed to compute ``outputs`` when the tensors in ``stop`` are given, in graph order."""
    producer = {out: node for node in graph.node for out in node.output if out}
    constants = {init.name for init in graph.initializer}
    needed: set[int] = set()
    seen: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if not name or name in seen or name in stop or name in constants:
            continue
        seen.add(name)
        node = producer.get(name)
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(node.input)
    return [node for node in graph.node if id(node) in needed]


def _model(source: onnx.ModelProto, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
           outputs: list[str]) -> onnx.ModelProto:
    used = {name for node in nodes for name in node.input}
    graph = helper.make_graph(
        nodes, source.graph.name, inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [init for init in source.graph.initializer if init.name in used],
    )
    model = helper.make_model(graph, opset_imports=source.opset_import, ir_version=source.ir_version)
    return model


def split_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """(prosody, vocoder) graphs cut from Kokoro's int8 graph; ``model`` is not modified.

    prosody: tokens, style, speed -> ASR features, F0, energy, durations.
    vocoder: ASR features, F0, energy, style, phase_offset -> audio (``len = 600 * frames``).
    """
    graph = model.graph
    produced = {out for node in graph.node for out in node.output}
    missing = [t for t in (ASR_FEATURES, F0_CURVE, ENERGY_CURVE, DURATIONS, PHASE_CUMSUM) if t not in produced]
    if missing:
        raise ValueError(f"not the Kokoro graph this split knows: no tensor {missing[0]!r}")
    cut = [ASR_FEATURES, F0_CURVE, ENERGY_CURVE]
    prosody = _model(model, [_copy(n) for n in _closure(graph, [*cut, DURATIONS], set())], list(graph.input),
                     [*cut, DURATIONS])
    nodes = [_copy(n) for n in _closure(graph, ["audio"], {*cut, "style"})]
    shifted = PHASE_CUMSUM + "_shifted"
    for node in nodes:
        for i, name in enumerate(node.input):
            if name == PHASE_CUMSUM:
                node.input[i] = shifted
    at = next(i for i, node in enumerate(nodes) if PHASE_CUMSUM in node.output) + 1
    nodes.insert(at, helper.make_node("Add", [PHASE_CUMSUM, PHASE_OFFSET], [shifted], name="phase_offset_add"))
    style = next(i for i in graph.input if i.name == "style")
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in cut]
    inputs += [style, helper.make_tensor_value_info(PHASE_OFFSET, TensorProto.FLOAT, [1, 1, HARMONICS])]
    return prosody, _model(model, nodes, inputs, ["audio"])


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    out = onnx.NodeProto()
    out.CopyFrom(node)
    return out


def harmonic_phase_offsets(f0: np.ndarray) -> np.ndarray:
    """[2T + 1, 9] source phase (cycles, mod 1) before each F0 point, as the whole-chunk run has it.

    The graph's sine generator sums ``frac(f0 * h / 24000)`` per F0 point (its linear down- and
    up-sampling of a nearest-upsampled curve gives back exactly the point's value), then scales by
    2 pi * 300; a window starting at point ``k`` needs the sum of the points before ``k``.
    """
    harmonics = np.arange(1, HARMONICS + 1, dtype=np.float32)
    steps = np.mod(np.asarray(f0, np.float32).reshape(-1, 1) * harmonics / np.float32(SAMPLE_RATE), 1.0)
    total = np.cumsum(steps.astype(np.float64), axis=0)
    return np.concatenate([np.zeros((1, HARMONICS)), np.mod(total, 1.0)]).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Window:
    """Frames ``[start, end)`` are this window's own; it is vocoded over ``[lo, hi)`` (with context)."""

    start: int
    end: int
    lo: int
    hi: int


def plan_windows(frames: int, first: int = 10, growth: float = 2.0, context: int = 8) -> list[Window]:
    """Windows of ``first`` frames, then each ``growth`` times the one before, to the chunk's end.

    Growth because the audio already out must cover the next window's compute (context included):
    equal small windows would each cost their context again and fall behind real time.
    """
    if frames <= 0:
        return []
    out: list[Window] = []
    start, size = 0, float(first)
    while start < frames:
        end = min(frames, start + max(1, round(size)))
        if frames - end < max(2, first // 2):  # no sliver of a last window
            end = frames
        out.append(Window(start, end, max(0, start - context), min(frames, end + context)))
        start, size = end, size * growth
    return out


class WindowStitcher:
    """Windows' audio in, joined pieces out: each join crossfaded over ``crossfade`` samples.

    Piece k runs from ``join(k-1) - crossfade/2`` to ``join(k) - crossfade/2`` (the last to the
    end), so a piece can leave as soon as its window is vocoded; it needs ``crossfade/2`` samples
    of right context, which the windows' context frames give.
    """

    def __init__(self, crossfade: int = 240) -> None:
        self.half = crossfade // 2
        self._tail: np.ndarray | None = None  # previous window's samples over the coming crossfade

    def push(self, window: Window, audio: np.ndarray, last: bool) -> np.ndarray:
        audio = np.asarray(audio, np.float32).reshape(-1)
        base = window.lo * FRAME_SAMPLES  # chunk sample index of audio[0]
        head = window.start * FRAME_SAMPLES - self.half - base if self._tail is not None else 0
        stop = audio.size if last else window.end * FRAME_SAMPLES - self.half - base
        piece = audio[max(head, 0):stop].copy()
        if self._tail is not None:
            n = self._tail.size
            ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
            piece[:n] = self._tail * (1.0 - ramp) + piece[:n] * ramp
        self._tail = None if last else audio[stop : stop + 2 * self.half].copy()
        return piece


@dataclass(frozen=True, slots=True)
class Prosody:
    """The prosody part's outputs for one chunk: what the vocoder windows are cut from."""

    features: np.ndarray  # [1, 512, T]
    f0: np.ndarray  # [1, 2T]
    energy: np.ndarray  # [1, 2T]
    durations: np.ndarray  # frames per input token (pads included)
    phase: np.ndarray  # harmonic_phase_offsets(f0)

    @property
    def frames(self) -> int:
        return int(self.features.shape[2])


class WindowedVocoder:
    """Two ONNX Runtime sessions over the split graph; one caller thread at a time."""

    def __init__(self, prosody_session: object, vocoder_session: object) -> None:
        self._prosody = prosody_session
        self._vocoder = vocoder_session

    def prosody(self, feeds: dict[str, np.ndarray], run_options: object = None) -> Prosody:
        features, f0, energy, durations = self._prosody.run(None, feeds, run_options)  # type: ignore[attr-defined]
        return Prosody(features, f0, energy, np.asarray(durations).reshape(-1), harmonic_phase_offsets(f0))

    def vocode(self, prosody: Prosody, style: np.ndarray, window: Window, run_options: object = None) -> np.ndarray:
        """Audio for frames ``[window.lo, window.hi)``, 600 samples per frame."""
        lo, hi = window.lo, window.hi
        feeds = {
            ASR_FEATURES: prosody.features[:, :, lo:hi], F0_CURVE: prosody.f0[:, 2 * lo : 2 * hi],
            ENERGY_CURVE: prosody.energy[:, 2 * lo : 2 * hi], "style": style,
            PHASE_OFFSET: prosody.phase[2 * lo].reshape(1, 1, HARMONICS),
        }
        out = self._vocoder.run(None, feeds, run_options)  # type: ignore[attr-defined]
        return np.asarray(out[0], np.float32).reshape(-1)


def load_windowed_vocoder(model: onnx.ModelProto, options: object) -> WindowedVocoder:
    """Split ``model`` and open both parts with the given ``onnxruntime.SessionOptions``."""
    import onnxruntime as ort

    prosody, vocoder = split_model(model)
    open_ = [ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
             for m in (prosody, vocoder)]
    return WindowedVocoder(*open_)
