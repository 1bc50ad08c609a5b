"""numpy's BLAS is held at one thread once a loader runs; other BLAS libraries are left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from streamvoice.models.blas_threads import NUMPY_BLAS_PREFIX, _is_numpys

_PROBE = """
import json, numpy
from threadpoolctl import threadpool_info
from streamvoice.models.blas_threads import limit_numpy_blas
def blas():
    return [(i["prefix"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
before = blas()
changed = limit_numpy_blas()
print(json.dumps({"before": before, "after": blas(), "changed": changed, "again": limit_numpy_blas()}))
"""


def test_numpy_blas_limited_to_one_thread_in_a_fresh_process() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}  # a pool of 2 whatever this machine's cores
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    seen = json.loads(out.stdout)
    assert seen["before"] and all(n == 2 for _, n in seen["before"]), seen
    assert seen["after"] == [[prefix, 1] for prefix, _ in seen["before"]]
    assert len(seen["changed"]) == len(seen["before"])
    assert seen["again"] == []  # idempotent: nothing left to change


def test_only_numpys_own_library_counts_as_numpys(tmp_path: Path) -> None:
    numpy_dir = tmp_path / "site-packages" / "numpy"
    (numpy_dir / ".dylibs").mkdir(parents=True)
    (tmp_path / "site-packages" / "numpy.libs").mkdir()
    system = Path("/usr/lib/x86_64-linux-gnu/libopenblas.so.0")
    assert _is_numpys(tmp_path / "x.so", NUMPY_BLAS_PREFIX, numpy_dir)
    assert _is_numpys(tmp_path / "site-packages" / "numpy.libs" / "libopenblas.so", "libopenblas", numpy_dir)
    assert _is_numpys(numpy_dir / ".dylibs" / "libopenblas.dylib", "libopenblas", numpy_dir)
    assert not _is_numpys(system, "libopenblas", numpy_dir)  # the one the MLX engines bind
