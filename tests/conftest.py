"""Shared fixtures: where the installed models and the test clips are."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from streamvoice.config import default_models_dir
from streamvoice.models.mlx_blas import preload_openblas

# Before any test module imports mlx: bound later, MLX keeps its reference BLAS for the whole run
# (16-23x slower matrix products; the MLX parity tests then ran past their time limit).
preload_openblas(os.cpu_count() or 1)

DATA_DIR = Path(__file__).parent / "data"


def _models_dir() -> Path:
    # Tests are a face too: like the CLI, they may read the environment.
    configured = os.environ.get("STREAMVOICE_MODELS")
    return Path(configured) if configured else default_models_dir()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The installed models; a test marked `models` is skipped with the fix when they are missing."""
    path = _models_dir()
    needed = ("whisper-base", "kokoro-82m")
    missing = [n for n in needed if not (path / n / "MANIFEST.json").is_file()]
    if missing:
        if os.environ.get("STREAMVOICE_REQUIRE_MODELS") == "1":
            pytest.fail(f"models {missing} are not installed in {path}: run `make models`")
        pytest.skip(f"models {missing} not installed in {path}; run `make models`")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def references() -> dict[str, str]:
    """Reference transcript of each clip in tests/data, by file name."""
    with (DATA_DIR / "SOURCES.txt").open() as handle:
        rows = csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row[0]: row[2] for row in rows if len(row) >= 3}
