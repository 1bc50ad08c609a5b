"""MLX Kokoro's rewritten operations give what the plain ones give, and ONNX names map as intended."""

from __future__ import annotations

import numpy as np
import pytest

from streamvoice.models.mlx_blas import preload_openblas
from streamvoice.tts.mlx_kokoro_weights import _lstm, kokoro_name, node_scope

preload_openblas(2)  # before mlx.core: a later MLX backend in this process keeps the fast BLAS
mx = pytest.importorskip("mlx.core")


@pytest.mark.parametrize(("length", "kernel", "dilation"), [(37, 3, 3), (50, 7, 5), (64, 11, 3), (9, 3, 5)])
def test_dilated_conv_by_phases_equals_dilated_conv(length: int, kernel: int, dilation: int) -> None:
    from streamvoice.tts.mlx_kokoro_layers import dilated_conv1d

    rng = np.random.default_rng(0)
    x = mx.array(rng.standard_normal((1, length, 6)).astype(np.float32))
    w = mx.array(rng.standard_normal((5, kernel, 6)).astype(np.float32))
    pad = dilation * (kernel - 1) // 2
    expected = mx.conv1d(x, w, padding=pad, dilation=dilation)
    got = dilated_conv1d(x, w, pad, dilation)
    assert got.shape == expected.shape
    assert float(mx.abs(got - expected).max()) < 1e-4


@pytest.mark.parametrize(("length", "kernel", "stride", "padding"), [(13, 20, 10, 5), (26, 12, 6, 3), (4, 4, 2, 1)])
def test_transposed_conv_by_overlap_add_equals_conv_transpose(length: int, kernel: int, stride: int,
                                                              padding: int) -> None:
    from streamvoice.tts.mlx_kokoro_layers import overlap_add_transpose

    rng = np.random.default_rng(1)
    x = mx.array(rng.standard_normal((1, length, 8)).astype(np.float32))
    w = mx.array(rng.standard_normal((4, kernel, 8)).astype(np.float32))
    expected = mx.conv_transpose1d(x, w, stride=stride, padding=padding)
    got = overlap_add_transpose(x, w, stride, padding)
    assert got.shape == expected.shape
    assert float(mx.abs(got - expected).max()) < 1e-4


def test_snake_polynomial_matches_sine() -> None:
    from streamvoice.tts.mlx_kokoro_layers import snake

    x = mx.array(np.linspace(-60, 60, 4001, dtype=np.float32)[None, :, None])
    alpha = mx.array(np.array([0.3], dtype=np.float32))
    exact = x + (1 / alpha) * mx.sin(alpha * x) ** 2
    assert float(mx.abs(snake(x, alpha) - exact).max()) < 1e-4


def test_onnx_scopes_map_to_kokoro_modules() -> None:
    assert node_scope("/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant_float") == "encoder.text_encoder.cnn.0.0"
    assert node_scope("/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/attention/query_3/MatMul") == (
        "encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query")
    assert kokoro_name(node_scope("/encoder/F0.1/conv1x1/Conv_quant_float")) == "predictor.F0.1.conv1x1"
    assert kokoro_name("encoder.predictor.F0.0.conv1.bias") == "predictor.F0.0.conv1.bias"
    assert kokoro_name("decoder.decoder.generator.ups.0.bias") == "decoder.generator.ups.0.bias"
    with pytest.raises(KeyError):
        kokoro_name("somewhere.else.weight")


def test_lstm_gates_reordered_from_onnx_iofc_to_pytorch_ifgo() -> None:
    hidden = 2
    # ONNX W rows: i block, o block, f block, c block; mark each block by its gate's number
    blocks = {"i": 1.0, "o": 2.0, "f": 3.0, "c": 4.0}
    w = np.concatenate([np.full((hidden, 3), blocks[g]) for g in "iofc"])[None]
    r = np.concatenate([np.full((hidden, hidden), blocks[g]) for g in "iofc"])[None]
    b = np.concatenate([np.concatenate([np.full(hidden, blocks[g]) for g in "iofc"])] * 2)[None]
    out = dict(_lstm("m", w, r, b))
    expected = [blocks[g] for g in "ifco"]  # PyTorch: i, f, g (= ONNX c), o
    for name in ("m.weight_ih_l0", "m.weight_hh_l0", "m.bias_ih_l0", "m.bias_hh_l0"):
        assert out[name].reshape(4, hidden, -1)[:, 0, 0].tolist() == expected, name
