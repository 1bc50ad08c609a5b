"""Rewrite Kokoro's dynamically quantized int8 ONNX graph into a float graph, in memory.

Why: the published Kokoro graph is int8 with *dynamic* quantization: every linear layer
quantizes its activations at run time (``DynamicQuantizeLinear``), runs an integer kernel
(``ConvInteger`` / ``MatMulInteger``), then casts and rescales. ONNX Runtime's ``ConvInteger``
has no fast CPU kernel, so on small machines the "compressed" graph can be slower than float.
Dequantizing the weights once (``w_fp = (w_q - zero_point) * scale``) gives float
``Conv`` / ``MatMul`` / ``LSTM`` nodes with the same numbers the int8 graph approximates.

Patterns in the graph (inspected with the ``onnx`` package; anything else is left alone):

* ``MatMulInteger(DQL(x), W_q, x_zp, w_zp) -> Cast -> Mul(S)``, ``S = Mul(x_scale, w_scale)``
  (per-column ``w_scale``/``w_zp``), the float bias added by a later ``Add``.
* ``ConvInteger(DQL(x), W_q, x_zp, w_zp) [-> Add(bias_q)] -> Cast -> Mul(S)``, where
  ``bias_q = Reshape(Cast(Floor(Div(bias_fp, S))))`` is the float bias quantized at run time.
* ``DynamicQuantizeLSTM(X, W_q, R_q, B, ..., W_scale, W_zp, R_scale, R_zp)`` whose weights are
  stored transposed (``[dirs, input, 4*hidden]``) relative to ONNX ``LSTM``.

Dead nodes (the activation quantizers, the bias-quantizing chains) and unused initializers
are removed afterwards. The graph's inputs, outputs and every other tensor name are kept, so
extra outputs such as ``/encoder/Round_output_0`` still work.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper


@dataclass(frozen=True, slots=True)
class DequantizeReport:
    """What the rewrite did, so a caller can refuse a graph that was only partly converted."""

    matmuls: int  # MatMulInteger patterns rewritten to MatMul
    convs: int  # ConvInteger patterns rewritten to Conv
    lstms: int  # DynamicQuantizeLSTM rewritten to LSTM
    left_integer_ops: int  # ConvInteger/MatMulInteger/DynamicQuantizeLSTM still in the graph
    removed_nodes: int  # dead nodes dropped after the rewrite


class _Graph:
    """Index of one graph: producers, consumers, initializers (rebuilt by the caller when stale)."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.producer = {out: node for node in graph.node for out in node.output if out}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self.inits = {init.name: init for init in graph.initializer}

    def array(self, name: str) -> np.ndarray | None:
        init = self.inits.get(name)
        return None if init is None else numpy_helper.to_array(init)

    def only_consumer(self, name: str, op_type: str) -> onnx.NodeProto | None:
        users = self.consumers.get(name, [])
        if len(users) == 1 and users[0].op_type == op_type:
            return users[0]
        return None

    def produced_by(self, name: str, op_type: str) -> onnx.NodeProto | None:
        node = self.producer.get(name)
        return node if node is not None and node.op_type == op_type else None


@dataclass(slots=True)
class _Rewrite:
    """One integer pattern: the nodes it replaces and the float node that takes their place."""

    remove: list[onnx.NodeProto]
    node: onnx.NodeProto
    anchor: onnx.NodeProto  # the new node goes where this one was (keeps topological order)


def dequantize_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, DequantizeReport]:
    """A float copy of ``model`` (which is not modified) and a report of what was rewritten."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = _Graph(out.graph)
    new_inits: dict[str, np.ndarray] = {}
    rewrites: list[_Rewrite] = []
    counts = {"MatMulInteger": 0, "ConvInteger": 0, "DynamicQuantizeLSTM": 0}
    for node in list(out.graph.node):
        if node.op_type in ("MatMulInteger", "ConvInteger"):
            rw = _integer_linear(g, node, new_inits)
        elif node.op_type == "DynamicQuantizeLSTM":
            rw = _quantized_lstm(g, node, new_inits)
        else:
            continue
        if rw is not None:
            rewrites.append(rw)
            counts[node.op_type] += 1
    _apply(out.graph, rewrites)
    out.graph.initializer.extend(numpy_helper.from_array(array, name) for name, array in new_inits.items())
    removed = _drop_dead_nodes(out.graph)
    _drop_unused_initializers(out.graph)
    left = sum(1 for n in out.graph.node if n.op_type in counts)
    report = DequantizeReport(
        counts["MatMulInteger"], counts["ConvInteger"], counts["DynamicQuantizeLSTM"], left, removed
    )
    return out, report


def _integer_linear(g: _Graph, node: onnx.NodeProto, new_inits: dict[str, np.ndarray]) -> _Rewrite | None:
    """ConvInteger / MatMulInteger with its scaling tail -> Conv / MatMul on float weights."""
    dql = g.produced_by(node.input[0], "DynamicQuantizeLinear")
    w_q, w_zp = g.array(node.input[1]), g.array(node.input[3]) if len(node.input) > 3 else None
    if dql is None or w_q is None or w_zp is None or node.input[2] != dql.output[2]:
        return None
    remove = [node]
    bias: str | None = None
    tail = node.output[0]
    add = g.only_consumer(tail, "Add")
    if add is not None and node.op_type == "ConvInteger":
        bias = _quantized_bias_source(g, add.input[1] if add.input[0] == tail else add.input[0])
        if bias is None:
            return None
        remove.append(add)
        tail = add.output[0]
    cast = g.only_consumer(tail, "Cast")
    if cast is None or helper.get_attribute_value(cast.attribute[0]) != onnx.TensorProto.FLOAT:
        return None
    mul = g.only_consumer(cast.output[0], "Mul")
    if mul is None:
        return None
    w_scale = _weight_scale(g, mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0], dql.output[1])
    if w_scale is None:
        return None
    remove += [cast, mul]
    if node.op_type == "MatMulInteger":  # W [K, N]; scale and zero point per column (or scalar)
        weight = (w_q.astype(np.float32) - w_zp.astype(np.float32)) * w_scale
    else:  # W [out, in/group, *kernel]; scale per tensor (or per output channel)
        shape = (-1,) + (1,) * (w_q.ndim - 1) if w_scale.ndim else ()
        weight = (w_q.astype(np.float32) - w_zp.reshape(shape).astype(np.float32)) * w_scale.reshape(shape)
    w_name = node.input[1] + "_dequantized"
    new_inits[w_name] = weight.astype(np.float32)
    inputs = [dql.input[0], w_name] + ([bias] if bias else [])
    op = "MatMul" if node.op_type == "MatMulInteger" else "Conv"
    new = helper.make_node(op, inputs, [mul.output[0]], name=(node.name or node.output[0]) + "_float")
    if op == "Conv":
        new.attribute.extend(node.attribute)
    return _Rewrite(remove, new, node)


def _weight_scale(g: _Graph, scales: str, x_scale: str) -> np.ndarray | None:
    """``w_scale`` from ``S = Mul(x_scale, w_scale)``, the factor the integer output is scaled by."""
    mul = g.produced_by(scales, "Mul")
    if mul is None or x_scale not in mul.input:
        return None
    other = mul.input[1] if mul.input[0] == x_scale else mul.input[0]
    scale = g.array(other)
    return None if scale is None else scale.astype(np.float32)


def _quantized_bias_source(g: _Graph, name: str) -> str | None:
    """The float bias initializer behind ``Reshape(Cast(Floor(Div(bias, S))))``, or None."""
    chain = ("Reshape", "Cast", "Floor", "Div")
    for op in chain:
        node = g.produced_by(name, op)
        if node is None:
            return None
        name = node.input[0]
    return name if name in g.inits else None


def _quantized_lstm(g: _Graph, node: onnx.NodeProto, new_inits: dict[str, np.ndarray]) -> _Rewrite | None:
    """DynamicQuantizeLSTM -> LSTM with float W [dirs, 4h, in] and R [dirs, 4h, h]."""
    if len(node.input) < 12:
        return None
    floats: list[str] = []
    for w, scale, zp in ((1, 8, 9), (2, 10, 11)):
        q, s, z = g.array(node.input[w]), g.array(node.input[scale]), g.array(node.input[zp])
        if q is None or s is None or z is None or q.ndim != 3:
            return None
        fp = (q.astype(np.float32) - z.reshape(-1, 1, 1).astype(np.float32)) * s.reshape(-1, 1, 1)
        name = node.input[w] + "_dequantized"
        new_inits[name] = np.ascontiguousarray(fp.transpose(0, 2, 1), dtype=np.float32)
        floats.append(name)
    inputs = [node.input[0], *floats, *node.input[3:8]]
    while inputs and not inputs[-1]:
        inputs.pop()
    new = helper.make_node("LSTM", inputs, list(node.output), name=(node.name or node.output[0]) + "_float")
    new.attribute.extend(a for a in node.attribute if a.name in ("direction", "hidden_size", "input_forget",
                                                                  "activations", "clip"))
    return _Rewrite([node], new, node)


def _apply(graph: onnx.GraphProto, rewrites: list[_Rewrite]) -> None:
    """Replace each pattern's nodes by its float node, placed where the pattern's first node was."""
    at_anchor = {id(rw.anchor): rw.node for rw in rewrites}
    gone = {id(n) for rw in rewrites for n in rw.remove}
    kept: list[onnx.NodeProto] = []
    for node in graph.node:
        if id(node) in at_anchor:
            kept.append(at_anchor[id(node)])
        if id(node) not in gone:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def _drop_dead_nodes(graph: onnx.GraphProto) -> int:
    """Remove nodes none of whose outputs is used (repeatedly: chains die back to their roots)."""
    needed = {o.name for o in graph.output}
    removed = 0
    while True:
        used = set(needed)
        for node in graph.node:
            used.update(node.input)
        alive = [n for n in graph.node if any(o in used for o in n.output if o)]
        if len(alive) == len(graph.node):
            return removed
        removed += len(graph.node) - len(alive)
        del graph.node[:]
        graph.node.extend(alive)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    produced = {o for node in graph.node for o in node.output} | {i.name for i in graph.input}
    info = [v for v in graph.value_info if v.name in produced or v.name in used]
    del graph.value_info[:]
    graph.value_info.extend(info)
