"""Read a CTranslate2 ``model.bin`` with numpy alone, so its weights can feed another engine.

The format (ctranslate2 ``specs/model_spec.py``, binary version 6): a little-endian header
(version, spec name, spec revision), then each variable as name, rank, shape, dtype id and raw
bytes, then aliases (one name for another variable, e.g. the output projection tied to the
embeddings). Strings are a uint16 length (with the trailing NUL) and UTF-8 bytes. Reading it here
keeps conversion free of ctranslate2, which an MLX-only machine need not have.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from streamvoice.models.errors import ModelError

_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # ctranslate2 DataType order
_VERSIONS = (6,)  # the binary version ctranslate2 4.x writes (the only one checked here)


@dataclass(frozen=True, slots=True)
class Ct2Model:
    spec: str  # e.g. "WhisperSpec"
    revision: int
    variables: dict[str, np.ndarray]  # aliases resolved: every name maps to an array

    def scalar(self, name: str) -> int:
        return int(self.variables[name].reshape(-1)[0])


def _read(handle: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ModelError(f"{handle.name}: truncated CTranslate2 model file")
    return int(struct.unpack("<" + fmt, data)[0])


def _string(handle: BinaryIO) -> str:
    length = _read(handle, "H")
    return handle.read(length)[:-1].decode("utf-8")


def _array(raw: bytes, dtype: str, shape: list[int]) -> np.ndarray:
    if dtype == "bfloat16":  # numpy has no bfloat16: widen the upper half of a float32
        wide = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return wide.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def read_ct2_model(path: Path) -> Ct2Model:
    """Every variable of a CTranslate2 model file (arrays are read-only views of the bytes read)."""
    with path.open("rb") as handle:
        version = _read(handle, "I")
        if version not in _VERSIONS:
            raise ModelError(f"{path}: CTranslate2 binary version {version} is not supported (expected 6)")
        spec = _string(handle)
        revision = _read(handle, "I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(_read(handle, "I")):
            name = _string(handle)
            shape = [_read(handle, "I") for _ in range(_read(handle, "B"))]
            dtype = _DTYPES[_read(handle, "B")]
            raw = handle.read(_read(handle, "I"))
            variables[name] = _array(raw, dtype, shape)
        for _ in range(_read(handle, "I")):
            alias, target = _string(handle), _string(handle)
            variables[alias] = variables[target]
    return Ct2Model(spec, revision, variables)
