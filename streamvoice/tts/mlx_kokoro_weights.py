"""Kokoro's float weights, rebuilt from the installed int8 ONNX graph and named after Kokoro's modules.

Why from the graph: the only Kokoro these machines can install is the int8 ONNX export. Its
weights are dequantized first (:mod:`streamvoice.tts.dequantize`), then each one is named by the
module that uses it: named initializers keep their PyTorch names (``encoder.predictor.F0.0.conv1.bias``),
anonymous ones (``onnx::MatMul_6547``, weight-norm products such as ``/encoder/F0.0/Mul_output_0``)
take the scope of the node that consumes them (``/encoder/F0.0/conv1/Conv`` -> ``predictor.F0.0.conv1``).
Weight norm is already folded into the weights; Kokoro's top-level names are ``bert``,
``bert_encoder``, ``text_encoder``, ``predictor`` and ``decoder``.

Layouts are MLX's: conv weights ``(out, kernel, in/groups)``, linear weights ``(out, in)``, LSTM
weights as PyTorch's ``weight_ih_l0`` / ``weight_hh_l0`` / ``bias_ih_l0`` / ``bias_hh_l0`` (and
``_reverse``) with PyTorch's gate order i, f, g, o (ONNX stores i, o, f, c).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import onnx
from onnx import numpy_helper

# ONNX scope -> Kokoro module path; the export names the predictor's F0/N/shared blocks under /encoder.
_PREFIXES = (
    ("encoder.bert_encoder.", "bert_encoder."),
    ("encoder.bert.", "bert."),
    ("encoder.text_encoder.", "text_encoder."),
    ("encoder.predictor.", "predictor."),
    ("encoder.F0_proj.", "predictor.F0_proj."),
    ("encoder.N_proj.", "predictor.N_proj."),
    ("encoder.F0.", "predictor.F0."),
    ("encoder.N.", "predictor.N."),
    ("encoder.shared.", "predictor.shared."),
    ("decoder.decoder.", "decoder."),
)
_ISTFT = "decoder.decoder.generator.stft.istft.stft."
_STFT_WINDOW_NODE = "/decoder/decoder/generator/STFT"
_IOFC_TO_IFGO = (0, 2, 3, 1)  # ONNX LSTM gate blocks i, o, f, c -> PyTorch i, f, g(c), o


def kokoro_name(dotted: str) -> str:
    """An ONNX-side dotted name (initializer or node scope) as Kokoro's module path."""
    probe = dotted + "."
    for old, new in _PREFIXES:
        if probe.startswith(old):
            return (new + probe[len(old):]).rstrip(".")
    raise KeyError(f"no Kokoro module for ONNX name {dotted!r}")


def node_scope(node_name: str) -> str:
    """``/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant_float`` -> ``encoder.text_encoder.cnn.0.0``.

    The last segment is the op; a segment that extends the one before (``cnn.0`` then ``cnn.0.0``)
    replaces it; ``_1``.. suffixes mark ALBERT's shared layer applied again and are dropped."""
    parts: list[str] = []
    for seg in node_name.strip("/").split("/")[:-1]:
        seg = re.sub(r"_\d+$", "", seg)
        if parts and seg.startswith(parts[-1] + "."):
            parts[-1] = seg
        else:
            parts.append(seg)
    return ".".join(parts)


def _is_named(init: str) -> bool:
    return "." in init and not init.startswith(("/", "onnx::"))


def _clean(init: str) -> str:
    for suffix in ("_quantized_dequantized", "_dequantized", "_quantized"):
        if init.endswith(suffix):
            return init[: -len(suffix)]
    return init


class _Graph:
    def __init__(self, graph: onnx.GraphProto) -> None:
        self.inits = {i.name: i for i in graph.initializer}
        self.nodes = list(graph.node)
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def array(self, name: str) -> np.ndarray | None:
        init = self.inits.get(name)
        return None if init is None else numpy_helper.to_array(init)


def _conv_weight(w: np.ndarray) -> np.ndarray:
    """ONNX/PyTorch Conv ``(out, in/g, k)`` -> MLX ``(out, k, in/g)``."""
    return w.transpose(0, 2, 1)


def _conv_transpose_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """ONNX/PyTorch ConvTranspose ``(in, out/g, k)`` -> MLX ``(out, k, in/g)``."""
    c_in, out_g, k = w.shape
    w = w.reshape(groups, c_in // groups, out_g, k).transpose(0, 2, 3, 1)
    return w.reshape(groups * out_g, k, c_in // groups)


def _lstm(prefix: str, w: np.ndarray, r: np.ndarray, b: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """ONNX LSTM W ``[dirs, 4h, in]``, R ``[dirs, 4h, h]``, B ``[dirs, 8h]`` -> PyTorch LSTM tensors."""
    hidden = r.shape[-1]

    def gates(x: np.ndarray) -> np.ndarray:
        blocks = x.reshape(4, hidden, *x.shape[1:])
        return np.concatenate([blocks[i] for i in _IOFC_TO_IFGO], axis=0)

    for d, suffix in enumerate(("", "_reverse")[: w.shape[0]]):
        yield f"{prefix}.weight_ih_l0{suffix}", gates(w[d])
        yield f"{prefix}.weight_hh_l0{suffix}", gates(r[d])
        yield f"{prefix}.bias_ih_l0{suffix}", gates(b[d, : 4 * hidden])
        yield f"{prefix}.bias_hh_l0{suffix}", gates(b[d, 4 * hidden :])


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(onnx.helper.get_attribute_value(a))
    return default


def _node_weights(g: _Graph, node: onnx.NodeProto) -> Iterator[tuple[str, np.ndarray]]:
    """The (Kokoro name, MLX-layout array) pairs one node of the float graph holds."""
    op = node.op_type
    if op in ("Conv", "ConvTranspose") and node.input[1] in g.inits:
        w = g.array(node.input[1])
        assert w is not None
        if node.name.startswith("/decoder/decoder/generator/istft/"):
            yield "decoder.generator.istft.inverse_basis", _conv_transpose_weight(w, 1)
            return
        module = kokoro_name(node_scope(node.name))
        groups = _attr(node, "group", 1)
        yield module + ".weight", _conv_weight(w) if op == "Conv" else _conv_transpose_weight(w, groups)
        if len(node.input) > 2 and node.input[2] in g.inits:
            bias = g.array(node.input[2])
            assert bias is not None
            yield module + ".bias", bias
    elif op == "MatMul" and node.input[1] in g.inits:
        module = kokoro_name(node_scope(node.name))
        w = g.array(node.input[1])
        assert w is not None
        yield module + ".weight", w.T
        for user in g.consumers.get(node.output[0], []):
            if user.op_type in ("Add", "FastGelu"):
                named = [i for i in user.input if i in g.inits]
                if named:
                    bias = g.array(named[0])
                    assert bias is not None
                    yield module + ".bias", bias
    elif op == "LSTM":
        module = kokoro_name(node_scope(node.name))
        w, r, b = (g.array(node.input[i]) for i in (1, 2, 3))
        assert w is not None and r is not None and b is not None
        yield from _lstm(module, w, r, b)
    elif op == "DequantizeLinear":  # an int8 embedding table gathered, then dequantized
        gather_out = node.input[0]
        gather = next((n for n in g.nodes if gather_out in n.output and n.op_type == "Gather"), None)
        if gather is None or gather.input[0] not in g.inits:
            return
        q, scale, zp = g.array(gather.input[0]), g.array(node.input[1]), g.array(node.input[2])
        assert q is not None and scale is not None and zp is not None
        table = (q.astype(np.float32) - zp.astype(np.float32)) * scale.astype(np.float32)
        yield kokoro_name(_clean(gather.input[0])), table
    elif op in ("LayerNormalization", "SkipLayerNormalization"):
        for name in node.input[1:]:
            if name in g.inits and _is_named(name):
                arr = g.array(name)
                assert arr is not None
                yield kokoro_name(name), arr
    elif op == "Mul":
        for name in node.input:
            if name in g.inits and _is_named(name) and ".alpha" in name:  # Snake activations
                arr = g.array(name)
                assert arr is not None
                yield kokoro_name(name), arr.reshape(-1)
    elif op == "STFT" and node.name == _STFT_WINDOW_NODE:
        window = g.array(node.input[2])
        assert window is not None
        yield "decoder.generator.stft.window", window
    elif op == "Slice":
        for name in node.input:
            if name == _ISTFT + "window_sum":
                arr = g.array(name)
                assert arr is not None
                yield "decoder.generator.istft.window_sum", arr


def kokoro_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """All of Kokoro's float32 weights from the int8 (or float) ONNX graph, MLX layouts.

    Raises ``RuntimeError`` when the graph's integer ops could not all be rewritten, or when one
    name would get two different arrays (a mapping error, not something to paper over)."""
    from streamvoice.tts.dequantize import dequantize_model

    floats, report = dequantize_model(model)
    if report.left_integer_ops:
        raise RuntimeError(f"{report.left_integer_ops} integer ops of the Kokoro graph had an unknown pattern")
    g = _Graph(floats.graph)
    out: dict[str, np.ndarray] = {}
    for node in g.nodes:
        for name, array in _node_weights(g, node):
            array = np.ascontiguousarray(array, dtype=np.float32)
            seen = out.get(name)
            if seen is not None and (seen.shape != array.shape or not np.array_equal(seen, array)):
                raise RuntimeError(f"two different ONNX tensors map to {name!r}")
            out[name] = array
    return out
