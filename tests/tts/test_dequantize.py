"""int8 -> float graph rewrite: a tiny quantized graph (no models), then the real Kokoro graph."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from streamvoice.tts.dequantize import dequantize_model

INTEGER_OPS = {"ConvInteger", "MatMulInteger", "DynamicQuantizeLSTM", "DynamicQuantizeLinear"}


def _float_model() -> onnx.ModelProto:
    """Conv1d (with bias) -> MatMul -> LSTM: the three layer kinds the Kokoro graph quantizes."""
    rng = np.random.default_rng(0)
    weights = {
        "W": rng.normal(size=(16, 8, 3)).astype(np.float32) * 0.2,
        "B": rng.normal(size=16).astype(np.float32),
        "M": rng.normal(size=(16, 12)).astype(np.float32) * 0.2,
        "LW": rng.normal(size=(1, 24, 12)).astype(np.float32) * 0.2,
        "LR": rng.normal(size=(1, 24, 6)).astype(np.float32) * 0.2,
    }
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1], kernel_shape=[3]),
        helper.make_node("Transpose", ["c"], ["ct"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["ct", "M"], ["m"]),
        helper.make_node("Transpose", ["m"], ["mt"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["mt", "LW", "LR"], ["y", "yh", "yc"], hidden_size=6),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("c", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a, n) for n, a in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def _kokoro_style_conv_bias(model: onnx.ModelProto) -> None:
    """Rewrite the quantizer's "Mul then float Add" conv bias into Kokoro's older form.

    Kokoro's graph adds the bias in the integer domain: ``ConvInteger -> Add(Reshape(Cast(Floor(
    Div(bias, S))))) -> Cast -> Mul(S)``; recent quantizers no longer emit it, so build it here.
    """
    g = model.graph
    by_out = {o: n for n in g.node for o in n.output}
    add = by_out["c"]
    mul = by_out[add.input[0]]
    cast = by_out[mul.input[0]]
    conv = by_out[cast.input[0]]
    bias_reshape = by_out[add.input[1]]
    scale = mul.input[1]
    chain = [
        helper.make_node("Div", ["B", scale], ["b_div"]),
        helper.make_node("Floor", ["b_div"], ["b_floor"]),
        helper.make_node("Cast", ["b_floor"], ["b_int"], to=TensorProto.INT32),
        helper.make_node("Reshape", ["b_int", bias_reshape.input[1]], ["b_q"]),
        helper.make_node("Add", [conv.output[0], "b_q"], ["c_int"]),
        helper.make_node("Cast", ["c_int"], ["c_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["c_f", scale], ["c"]),
    ]
    kept = [n for n in g.node if n not in (add, mul, cast, bias_reshape)]
    at = kept.index(conv) + 1
    del g.node[:]
    g.node.extend(kept[:at] + chain + kept[at:])


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


@pytest.mark.parametrize("kokoro_bias", [False, True])
def test_tiny_quantized_graph_becomes_float_and_matches(tmp_path: Path, kokoro_bias: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    reference = _float_model()
    onnx.save(reference, tmp_path / "f.onnx")
    quantize_dynamic(tmp_path / "f.onnx", tmp_path / "q.onnx", weight_type=QuantType.QInt8)
    quantized = onnx.load(tmp_path / "q.onnx")
    if kokoro_bias:
        _kokoro_style_conv_bias(quantized)
    ops = Counter(n.op_type for n in quantized.graph.node)
    assert ops["ConvInteger"] == ops["MatMulInteger"] == ops["DynamicQuantizeLSTM"] == 1

    floated, report = dequantize_model(quantized)
    assert (report.convs, report.matmuls, report.lstms, report.left_integer_ops) == (1, 1, 1, 0)
    assert not INTEGER_OPS & {n.op_type for n in floated.graph.node}
    assert Counter(n.op_type for n in quantized.graph.node) == ops  # the input model is untouched
    onnx.checker.check_model(floated)

    x = np.random.default_rng(1).normal(size=(1, 8, 20)).astype(np.float32)
    want = _run(reference, x)
    got = _run(floated, x)
    noisy = _run(quantized, x)
    for w, g, n in zip(want, got, noisy, strict=True):
        assert g.shape == w.shape
        err_float = np.linalg.norm(g - w) / np.linalg.norm(w)
        err_int8 = np.linalg.norm(n - w) / np.linalg.norm(w)
        assert err_float < 0.05  # only the weights' rounding is left
        assert err_float < err_int8  # and the activations are no longer quantized


@pytest.mark.models
def test_kokoro_float_graph_sounds_like_int8(models_dir: Path) -> None:
    from bench.tts_graph import envelope_correlation
    from streamvoice.tts.g2p import Phonemizer
    from streamvoice.tts.kokoro_onnx import load_kokoro

    config = SimpleNamespace(threads=2, voice="af_heart")
    int8 = load_kokoro(models_dir / "kokoro-82m", config, warm_up=False, graph="int8")
    flt = load_kokoro(models_dir / "kokoro-82m", config, warm_up=False, graph="float")
    assert (int8.graph, flt.graph) == ("int8", "float") and flt.has_durations
    (chunk,) = Phonemizer("en-us").phonemize("The quick brown fox jumps over the lazy dog near the river bank.")
    a = int8.synthesize(chunk, "af_heart", 1.0)
    b = flt.synthesize(chunk, "af_heart", 1.0)
    assert abs(b.audio.size / a.audio.size - 1.0) < 0.05  # durations predicted alike
    assert [w.word for w in b.words] == [w.word for w in a.words]
    assert max(abs(x.start_s - y.start_s) for x, y in zip(a.words, b.words, strict=True)) < 0.1
    assert envelope_correlation(a.audio, b.audio) > 0.9
    other = int8.synthesize(chunk, "am_adam", 1.0)
    assert envelope_correlation(a.audio, other.audio) < envelope_correlation(a.audio, b.audio)
