"""Write Kokoro's MLX weights beside the installed ONNX graph: ``<model>/mlx/weights.npz`` + manifest.

Why stored: rebuilding the float weights from the int8 graph takes seconds of CPU and ~1 GB of
memory; doing it once, like any model file, makes later loads a plain read. The folder is built as
``mlx.partial`` and renamed into place with ``MANIFEST.json`` written last (sha256 and size of the
weights, and the sha256 of the graph they came from), so a half-written conversion is never used.
Numpy only (no MLX needed to convert).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.models.hashing import file_sha256
from streamvoice.tts.kokoro_inputs import find_model_file

MLX_FOLDER = "mlx"
WEIGHTS = "weights.npz"
MANIFEST = "MANIFEST.json"
FORMAT = 1  # bump when the names or layouts of mlx_kokoro_weights change


def mlx_folder(model_dir: Path) -> Path:
    return Path(model_dir) / MLX_FOLDER


def is_converted(model_dir: Path) -> bool:
    """A whole conversion of the current format is there (its manifest is written last)."""
    manifest = mlx_folder(model_dir) / MANIFEST
    if not manifest.is_file():
        return False
    recorded: dict[str, Any] = json.loads(manifest.read_text())
    return bool(recorded.get("format") == FORMAT and (mlx_folder(model_dir) / WEIGHTS).is_file())


def convert_kokoro_to_mlx(model_dir: Path, force: bool = False) -> Path:
    """Write ``<model_dir>/mlx/`` from the folder's Kokoro ONNX graph; returns the weights file.

    Skips the work when a conversion of this format is already there (unless ``force``)."""
    import onnx

    from streamvoice.tts.mlx_kokoro_weights import kokoro_weights

    model_dir = Path(model_dir)
    folder = mlx_folder(model_dir)
    if is_converted(model_dir) and not force:
        return folder / WEIGHTS
    source = find_model_file(model_dir)
    weights = kokoro_weights(onnx.load(str(source)))
    staging = model_dir / f"{MLX_FOLDER}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    np.savez(staging / WEIGHTS, **weights)  # type: ignore[arg-type]
    del weights
    manifest = {
        "name": model_dir.name,
        "engine": "mlx",
        "format": FORMAT,
        "source": {"name": source.name, "sha256": file_sha256(source)},
        "files": [{"name": WEIGHTS, "sha256": file_sha256(staging / WEIGHTS),
                   "size": (staging / WEIGHTS).stat().st_size}],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder / WEIGHTS


def verify_conversion(model_dir: Path) -> list[str]:
    """Problems with a stored conversion (empty when its weights match the manifest's sha256)."""
    folder = mlx_folder(model_dir)
    if not is_converted(model_dir):
        return [f"no MLX conversion of format {FORMAT} in {folder}"]
    recorded = json.loads((folder / MANIFEST).read_text())
    problems = []
    for entry in recorded["files"]:
        path = folder / entry["name"]
        if not path.is_file() or file_sha256(path) != entry["sha256"]:
            problems.append(f"{path} does not match its manifest (sha256); run `streamvoice models convert`")
    return problems
